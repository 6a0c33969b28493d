// suggest-diff for a file of a repository: checks the input, loads the model with the
// repository's adapter (or the one named), suggests, and writes the change when asked.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ADAPTER_CONFIG,
  Completer,
  fimTemplateFor,
  loadTokenizer,
  modelDirFor,
  readModelConfig,
  workspaceAdapterDir,
  type SessionOptions,
} from '../engine/index.js';
import { UserError, writeFileAtomic } from '../common/index.js';
import { checkMessage, readRepoFile, type RepoFile } from './repo-file.js';
import { suggestDiff, type DiffSuggestion, type SuggestDiffOptions, type SuggestModel } from './suggest-diff.js';

export interface RepoSuggestOptions extends SuggestDiffOptions {
  repo: string;
  /** Absolute, or relative to `repo`. */
  file: string;
  message: string;
  /** The base model: a folder or a hub id; default the embedded model. */
  model?: string;
  /** An adapter folder; undefined: `<repo>/.codefudge/adapter` when it holds one; null: none. */
  adapterDir?: string | null;
  /** Write the change into the file. */
  apply?: boolean;
  session?: SessionOptions;
}

export interface RepoSuggestion extends DiffSuggestion {
  file: RepoFile;
  adapterDir: string | null;
  written: boolean;
}

/** The adapter to use: the one named (checked), else the repository's own when it has one. */
export function adapterFor(root: string, asked: string | null | undefined): string | null {
  if (asked === null) return null;
  if (asked !== undefined) {
    if (!fs.existsSync(path.join(asked, ADAPTER_CONFIG))) throw new UserError(`adapter folder ${asked} has no ${ADAPTER_CONFIG}`);
    return path.resolve(asked);
  }
  const own = workspaceAdapterDir(root);
  return fs.existsSync(path.join(own, ADAPTER_CONFIG)) ? own : null;
}

/** Writes `text` over `file` atomically, keeping its permission bits. */
export function replaceFileText(file: string, text: string): void {
  const mode = fs.statSync(file).mode & 0o7777;
  writeFileAtomic(file, (fd) => {
    fs.writeFileSync(fd, text);
    fs.fchmodSync(fd, mode);
  });
}

/** The model folder's tokenizer, template and config, without loading its weights. */
async function tokenizerOnly(dir: string): Promise<SuggestModel & { release(): Promise<void> }> {
  const tokenizer = await loadTokenizer(dir);
  const config = readModelConfig(dir);
  return { tokenizer, template: fimTemplateFor(dir, tokenizer, config), folder: { config }, release: async () => undefined };
}

export async function suggestDiffInRepo(opts: RepoSuggestOptions): Promise<RepoSuggestion> {
  const message = checkMessage(opts.message);
  const file = await readRepoFile(opts.repo, opts.file);
  // With a remote backend the adapter is the server's (named in the backend's model); here only the tokenizer is read.
  const adapterDir = opts.remote ? null : adapterFor(file.root, opts.adapterDir);
  const completer: SuggestModel & { release(): Promise<void> } = opts.remote
    ? await tokenizerOnly(await modelDirFor(opts.model))
    : await Completer.load(await modelDirFor(opts.model), { ...opts.session, adapter: adapterDir ?? undefined });
  let suggestion: DiffSuggestion;
  try {
    suggestion = await suggestDiff(completer, { message, path: file.path, before: file.text }, opts);
  } finally {
    await completer.release();
  }
  const written = !!(opts.apply && suggestion.applied);
  if (written) replaceFileText(file.abs, suggestion.applied!.after);
  return { ...suggestion, file, adapterDir, written };
}

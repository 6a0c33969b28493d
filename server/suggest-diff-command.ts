// `codefudge.suggestDiff` (arguments: file URI, commit message): the diff the model proposes for
// the file, as a WorkspaceEdit the editor applies: one TextEdit per changed run of lines. The
// open document's text is used when there is one (unsaved changes included), else the file.
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ErrorCodes,
  LSPErrorCodes,
  ResponseError,
  type CancellationToken,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { messageOf, UserError } from '../common/index.js';
import {
  splitLines,
  type LineEdit,
  checkMessage,
  readTextFile,
  repositoryRoot,
  suggestDiff,
  type SuggestDiffOptions,
} from '../suggest/index.js';
import { type Completer } from '../engine/index.js';

export const SUGGEST_DIFF = 'codefudge.suggestDiff';

export interface SuggestDiffHost {
  completer(): Promise<Completer | undefined>;
  /** Runs generation exclusively (the model is shared with completion). */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  /** The text of an open document, or undefined. */
  openText(uri: string): string | undefined;
  /** The workspace folder, for a file outside any git repository. */
  root: string | undefined;
  log(line: string): void;
}

function invalid(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, `${SUGGEST_DIFF}: ${message}`);
}

/** The file's path as training saw it: relative to its repository, else to the workspace, else its name. */
async function promptPath(file: string, root: string | undefined): Promise<string> {
  let base: string | undefined;
  try {
    base = await repositoryRoot(dirname(file));
  } catch {
    base = root;
  }
  const rel = base === undefined ? '' : relative(base, file);
  return (rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file.slice(file.lastIndexOf(sep) + 1)).split(sep).join('/');
}

/** The edits as LSP TextEdits on `text`: each replaces its old lines, offsets turned into positions. */
export function textEdits(uri: string, text: string, edits: readonly LineEdit[]): TextEdit[] {
  const doc = TextDocument.create(uri, 'plaintext', 0, text);
  const starts = [0];
  for (const line of splitLines(text)) starts.push(starts[starts.length - 1] + line.length);
  return edits.map((e) => ({
    range: { start: doc.positionAt(starts[e.start]), end: doc.positionAt(starts[e.start + e.removed.length]) },
    newText: e.added.join(''),
  }));
}

export async function suggestDiffCommand(
  args: unknown[] | undefined,
  host: SuggestDiffHost,
  token: CancellationToken,
): Promise<WorkspaceEdit> {
  const [target, message, options] = args ?? [];
  if (typeof target !== 'string' || !target) throw invalid("the first argument must be the file's URI");
  if (typeof message !== 'string') throw invalid('the second argument must be the commit message');
  let file: string;
  try {
    file = target.startsWith('file:') ? fileURLToPath(target) : target;
  } catch {
    throw invalid(`not a file URI: ${target}`);
  }
  const uri = target.startsWith('file:') ? target : pathToFileURL(file).href;
  const o = (typeof options === 'object' && options !== null ? options : {}) as { beams?: unknown; maxTokens?: unknown };
  const opts: SuggestDiffOptions = {
    beams: Number.isInteger(o.beams) && (o.beams as number) > 0 ? (o.beams as number) : undefined,
    maxNewTokens: Number.isInteger(o.maxTokens) && (o.maxTokens as number) > 0 ? (o.maxTokens as number) : undefined,
  };
  let text: string;
  let path: string;
  try {
    checkMessage(message);
    text = host.openText(uri) ?? readTextFile(file, file);
    path = await promptPath(file, host.root);
  } catch (e) {
    if (e instanceof UserError) throw invalid(e.message);
    throw invalid(`cannot read ${file}: ${messageOf(e)}`);
  }
  const completer = await host.completer();
  if (!completer) throw new ResponseError(ErrorCodes.InternalError, `${SUGGEST_DIFF}: no model is loaded`);
  const abort = new AbortController();
  const onCancel = token.onCancellationRequested(() => abort.abort());
  try {
    const s = await host.exclusive(() =>
      suggestDiff(completer, { message: message.trim(), path, before: text }, { ...opts, signal: abort.signal }),
    );
    if (abort.signal.aborted) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
    host.log(
      `suggestDiff ${path}: ${s.applied ? `candidate ${s.applied.candidate.rank + 1} applied` : 'none applied'} in ${Math.round(s.milliseconds)} ms`,
    );
    if (!s.applied) {
      const why =
        s.candidates
          .map((c) => c.problem)
          .filter(Boolean)
          .join('; ') || 'nothing generated';
      throw new ResponseError(ErrorCodes.InternalError, `${SUGGEST_DIFF}: no suggested diff applies to ${path} (${why})`);
    }
    return { changes: { [uri]: textEdits(uri, text, s.applied.edits) } };
  } finally {
    onCancel.dispose();
  }
}

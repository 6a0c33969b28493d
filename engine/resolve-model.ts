// `--model` accepts a local folder or a hub id such as "Qwen/Qwen2.5-Coder-0.5B"; a hub id is downloaded
// into the standard Hugging Face cache (models--owner--name/snapshots/<commit>/), shared with Python tools.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeTextAtomic, UserError, messageOf } from '../common/index.js';
import { isGgufFile } from './gguf/gguf-model.js';

export interface ResolveModelOptions {
  /** The hub cache folder; default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  revision?: string;
  hubUrl?: string;
  /** Limit for each metadata request, so an offline machine fails fast. */
  timeoutMs?: number;
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const WANTED_FILE =
  /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|.*\.safetensors|model\.safetensors\.index\.json)$/;

export function defaultHubCacheDir(): string {
  const env = process.env;
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const home = env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
  return path.join(home, 'hub');
}

function repoFolder(cacheDir: string, id: string): string {
  return path.join(cacheDir, `models--${id.split('/').join('--')}`);
}

/** The snapshot a previous download finished (the ref is written last), if any. */
function cachedSnapshot(cacheDir: string, id: string, revision: string): string | undefined {
  const repo = repoFolder(cacheDir, id);
  let commit = revision;
  const ref = path.join(repo, 'refs', revision);
  if (fs.existsSync(ref)) commit = fs.readFileSync(ref, 'utf8').trim();
  const snapshot = path.join(repo, 'snapshots', commit);
  return fs.existsSync(path.join(snapshot, 'config.json')) ? snapshot : undefined;
}

function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

async function download(id: string, cacheDir: string, revision: string, hubUrl: string | undefined, timeoutMs: number): Promise<string> {
  const hub = await import('@huggingface/hub');
  const quickFetch = fetchWithTimeout(timeoutMs);
  const info = await hub.modelInfo({ name: id, additionalFields: ['sha'], revision, hubUrl, fetch: quickFetch });
  const commit = info.sha;
  const wanted: string[] = [];
  for await (const entry of hub.listFiles({ repo: { type: 'model', name: id }, revision: commit, hubUrl, fetch: quickFetch })) {
    if (entry.type === 'file' && WANTED_FILE.test(entry.path)) wanted.push(entry.path);
  }
  if (!wanted.includes('config.json')) throw new Error('the repository has no config.json');
  for (const file of wanted) {
    await hub.downloadFileToCacheDir({ repo: { type: 'model', name: id }, path: file, revision: commit, hubUrl, cacheDir });
  }
  const refPath = path.join(repoFolder(cacheDir, id), 'refs', revision);
  fs.mkdirSync(path.dirname(refPath), { recursive: true });
  writeTextAtomic(refPath, commit);
  return path.join(repoFolder(cacheDir, id), 'snapshots', commit);
}

/** A local model folder for `spec`: the folder itself, or the cached download of a hub id. */
export async function resolveModel(spec: string, options: ResolveModelOptions = {}): Promise<string> {
  if (fs.existsSync(spec)) {
    if (isGgufFile(spec)) return path.resolve(spec);
    if (!fs.statSync(spec).isDirectory()) throw new UserError(`model folder "${spec}" is not a folder (nor a GGUF file)`);
    return path.resolve(spec);
  }
  const looksLikePath = /^[./~]/.test(spec) || path.isAbsolute(spec);
  if (looksLikePath || !HUB_ID.test(spec)) throw new UserError(`model folder "${spec}" does not exist`);
  const cacheDir = options.cacheDir ?? defaultHubCacheDir();
  const revision = options.revision ?? 'main';
  const cached = cachedSnapshot(cacheDir, spec, revision);
  if (cached) return cached;
  try {
    return await download(spec, cacheDir, revision, options.hubUrl, options.timeoutMs ?? 15_000);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause ? ` (${cause.code ?? cause.message})` : '';
    const reason = `${messageOf(e).split('\n')[0]}${detail}`;
    throw new UserError(`cannot download "${spec}" (no network?): ${reason}; pass --model DIR with a local model folder`);
  }
}

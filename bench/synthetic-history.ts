// A repository of any length made in seconds with `git fast-import`: for tests that need more
// examples than a scripted repository can commit quickly, and for the history benchmarks (50,000
// commits). Its files are Python-like text that changes a few lines per commit, as real code does.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export interface SyntheticHistoryOptions {
  commits: number;
  /** Distinct files the commits edit (round robin with a seeded jump). Default 50. */
  files?: number;
  /** Functions per file; each is four lines. Default 20. */
  functionsPerFile?: number;
  seed?: number;
  /** Text every file starts with (a licence header, a blank line). */
  header?: string;
  /** Called every 1000 commits. */
  onProgress?: (done: number, total: number) => void;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return { ...env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
}

/** xorshift32: the same seed, the same repository. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const WORDS = ['value', 'count', 'total', 'index', 'items', 'limit', 'scale', 'width', 'depth', 'score', 'state', 'label'];

function functionText(file: number, fn: number, version: number): string {
  const a = WORDS[(fn + version) % WORDS.length];
  const b = WORDS[(fn * 7 + file + version * 3) % WORDS.length];
  return `def f${file}_${fn}(${a}, ${b}):\n    ${a}_${version} = ${a} + ${b} * ${version % 97}\n    return ${a}_${version}\n\n`;
}

/**
 * Creates a git repository at `dir` (which must not hold one) with `commits` first-parent
 * commits on `main`, one a day from 2020-01-01, each rewriting a few functions of one file.
 */
export async function makeSyntheticHistory(dir: string, opts: SyntheticHistoryOptions): Promise<void> {
  const env = cleanEnv();
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env });
  const files = opts.files ?? 50;
  const fns = opts.functionsPerFile ?? 20;
  const rand = rng(opts.seed ?? 1);
  const versions: number[][] = Array.from({ length: files }, () => new Array<number>(fns).fill(0));
  const proc = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: dir, env, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const closed = new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', resolve);
  });
  const write = (s: string) => (proc.stdin.write(s) ? Promise.resolve() : new Promise<void>((r) => proc.stdin.once('drain', () => r())));
  const start = Date.UTC(2020, 0, 1, 12) / 1000;
  for (let c = 0; c < opts.commits; c++) {
    const file = c < files ? c : Math.floor(rand() * files);
    const touched = c < files ? fns : 1 + Math.floor(rand() * 3);
    for (let t = 0; t < touched && c >= files; t++) versions[file][Math.floor(rand() * fns)]++;
    const text = (opts.header ?? '') + versions[file].map((v, fn) => functionText(file, fn, v)).join('');
    const body = Buffer.from(text, 'utf8');
    const message = Buffer.from(c < files ? `Add module m${file}\n` : `Update m${file}: change ${touched} functions\n`, 'utf8');
    const when = `${start + c * 3600} +0000`;
    await write(
      `commit refs/heads/main\ncommitter Synthetic <synthetic@example.com> ${when}\ndata ${message.length}\n${message}` +
        `M 100644 inline pkg/m${file}.py\ndata ${body.length}\n${text}\n`,
    );
    if ((c + 1) % 1000 === 0) opts.onProgress?.(c + 1, opts.commits);
  }
  await write('done\n');
  proc.stdin.end();
  const code = await closed;
  if (code !== 0) throw new Error(`git fast-import failed (exit ${code}): ${stderr.trim()}`);
  execFileSync('git', ['symbolic-ref', 'HEAD', 'refs/heads/main'], { cwd: dir, env });
  execFileSync('git', ['read-tree', '-m', '-u', 'HEAD'], { cwd: dir, env });
}

// Every commit's diff from one long-lived `git diff-tree --stdin`, as fast as `git log -p`,
// instead of two processes per commit. Requests are pipelined; after each, a line git echoes
// unchanged (it is no object name) marks where that commit's output ends.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { GitCommandError, GitTimeoutError, type GitRunner } from './git.js';

interface Request {
  id: number;
  line: string;
  marker: Buffer;
  resolve(out: Buffer): void;
  reject(e: Error): void;
}

export interface DiffStreamOptions {
  /** Lines of context. */
  context: number;
  /** Files larger than this are diffed as binary, unread (git's core.bigFileThreshold). */
  bigFileBytes: number;
  /** A request with no output for this long kills git and fails. */
  timeoutMs: number;
}

export class DiffStream {
  private proc: ChildProcessWithoutNullStreams | null = null;
  private readonly queue: Request[] = [];
  // Output not yet handed out, as received: one commit's diff can be many megabytes, and
  // concatenating on every chunk would copy it quadratically.
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes of `chunks` already searched for the head request's marker. */
  private searched = 0;
  private stderr = '';
  private nextId = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastOutput = 0;
  private timedOut = false;
  // A name no file can guess: the end marker must never be mistaken for diff text.
  private readonly nonce = randomBytes(8).toString('hex');

  constructor(
    private readonly git: GitRunner,
    private readonly opts: DiffStreamOptions,
  ) {}

  /**
   * `diff-tree -r -z -M --raw -p` of `sha` against `base` (its first parent), or against nothing
   * (a root, or a shallow clone's boundary commit) when base is null: header, raw entries, patch.
   * Rejects with git's words when git cannot read an object of this commit.
   */
  diff(sha: string, base: string | null): Promise<Buffer> {
    const id = this.nextId++;
    const mark = `~cf-${this.nonce}-${id}\n`;
    return new Promise((resolve, reject) => {
      const req: Request = { id, line: `${base ? `${sha} ${base}` : sha}\n${mark}`, marker: Buffer.from(mark), resolve, reject };
      this.queue.push(req);
      this.start().stdin.write(req.line);
    });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const proc = this.proc;
    this.proc = null;
    proc?.stdin.end();
    for (const r of this.queue.splice(0)) r.reject(new Error('diff stream closed'));
  }

  private args(): string[] {
    return [
      'diff-tree',
      '--stdin',
      '--root',
      '--always',
      '-r',
      '-z',
      '-M',
      '--raw',
      '-p',
      `-U${this.opts.context}`,
      '--no-ext-diff',
      '--no-textconv',
      '--no-color',
      '--src-prefix=a/',
      '--dst-prefix=b/',
    ];
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const proc = this.git.spawn(this.args(), [`core.bigFileThreshold=${this.opts.bigFileBytes}`]);
    this.proc = proc;
    this.chunks = [];
    this.size = 0;
    this.searched = 0;
    this.stderr = '';
    this.timedOut = false;
    this.lastOutput = Date.now();
    proc.stdout.on('data', (c: Buffer) => this.onData(proc, c));
    proc.stderr.on('data', (c: Buffer) => {
      this.stderr += c.toString('utf8');
    });
    proc.stdin.on('error', () => {
      /* reported through 'close' */
    });
    proc.on('error', () => {
      /* reported through 'close' */
    });
    proc.on('close', (code) => this.onClose(proc, code));
    this.timer ??= setInterval(() => this.checkTime(), Math.min(1000, this.opts.timeoutMs));
    this.timer.unref();
    return proc;
  }

  private onData(proc: ChildProcessWithoutNullStreams, chunk: Buffer): void {
    if (proc !== this.proc) return;
    this.lastOutput = Date.now();
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.queue.length) {
      const head = this.queue[0];
      const from = Math.max(0, this.searched - (head.marker.length - 1));
      const at = this.window(from).indexOf(head.marker);
      if (at < 0) {
        this.searched = this.size;
        return;
      }
      const end = from + at;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
      const body = Buffer.from(all.subarray(0, end));
      const rest = all.subarray(end + head.marker.length);
      this.chunks = rest.length ? [rest] : [];
      this.size = rest.length;
      this.searched = 0;
      this.queue.shift();
      head.resolve(body);
    }
  }

  /** The received bytes from `from` on, copying only the chunks that hold them. */
  private window(from: number): Buffer {
    let skip = from;
    let i = 0;
    while (i < this.chunks.length && skip >= this.chunks[i].length) skip -= this.chunks[i++].length;
    const parts = this.chunks.slice(i);
    if (!parts.length) return Buffer.alloc(0);
    parts[0] = parts[0].subarray(skip);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** git died (or was killed) on the oldest unanswered request: it fails, the rest go to a new process. */
  private onClose(proc: ChildProcessWithoutNullStreams, code: number | null): void {
    if (proc !== this.proc) return;
    this.proc = null;
    const failed = this.queue.shift();
    if (!failed) return;
    const args = this.args();
    failed.reject(
      this.timedOut
        ? new GitTimeoutError(args, Math.round(this.opts.timeoutMs / 1000))
        : new GitCommandError(args, this.stderr || 'git diff-tree exited early', code),
    );
    if (!this.queue.length) return;
    const next = this.start();
    for (const r of this.queue) next.stdin.write(r.line);
  }

  private checkTime(): void {
    if (!this.proc || !this.queue.length) return;
    if (Date.now() - this.lastOutput < this.opts.timeoutMs) return;
    this.timedOut = true;
    this.proc.kill('SIGKILL');
  }
}

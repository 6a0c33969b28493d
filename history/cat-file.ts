import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { GitCommandError, type GitRunner } from './git.js';

export interface ObjectInfo {
  oid: string;
  type: string;
  size: number;
}

export interface GitObject extends ObjectInfo {
  data: Buffer;
}

interface Pending {
  name: string;
  resolve(v: GitObject | ObjectInfo | null): void;
  reject(e: Error): void;
}

/** After this many objects git could not read, the repository is too damaged to go on. */
const MAX_UNREADABLE = 100_000;

/**
 * One long-lived `git cat-file --batch` (or `--batch-check`) process: requests are pipelined
 * and answered in order, which is far faster than a process per object. git dies on an object
 * it cannot read (a corrupt loose object, a blob a partial clone never fetched): that request
 * then answers null and is recorded in `unreadable`, and a new process takes the rest.
 */
class BatchProcess {
  private readonly unreadable: Set<string>;
  private readonly absent: ReadonlySet<string>;
  private proc: ChildProcessWithoutNullStreams | null = null;
  private readonly pending: Pending[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private stderr = '';
  private failed: Error | null = null;
  /** Bytes needed before the object at the head of the buffer is complete. */
  private need = 0;

  constructor(
    private readonly git: GitRunner,
    private readonly withData: boolean,
    unreadable: Set<string>,
    absent: ReadonlySet<string>,
  ) {
    this.unreadable = unreadable;
    this.absent = absent;
  }

  request(name: string): Promise<GitObject | ObjectInfo | null> {
    // The protocol is line-based: a name with a newline cannot be asked for.
    if (name.includes('\n') || this.unreadable.has(name)) return Promise.resolve(null);
    if (this.absent.has(name)) {
      this.unreadable.add(name);
      return Promise.resolve(null);
    }
    if (this.failed) return Promise.reject(this.failed);
    const proc = this.start();
    return new Promise((resolve, reject) => {
      this.pending.push({ name, resolve, reject });
      proc.stdin.write(name + '\n');
    });
  }

  close(): void {
    if (!this.proc) return;
    const proc = this.proc;
    this.proc = null;
    proc.stdin.end();
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const args = ['cat-file', this.withData ? '--batch' : '--batch-check'];
    const proc = this.git.spawn(args);
    proc.stdout.on('data', (c: Buffer) => this.onData(c));
    proc.stderr.on('data', (c: Buffer) => {
      this.stderr += c.toString('utf8');
    });
    proc.stdin.on('error', () => {
      /* reported through 'close' */
    });
    const fail = (e: Error) => {
      this.failed = e;
      for (const p of this.pending.splice(0)) p.reject(e);
    };
    proc.on('error', (e) => fail(new GitCommandError(args, e.message, null)));
    proc.on('close', (code) => {
      if (this.proc === proc) this.proc = null;
      if (!this.pending.length || this.failed) return;
      // git stopped at the oldest unanswered request: that object is unreadable; the rest go to a new process.
      const culprit = this.pending.shift()!;
      this.unreadable.add(culprit.name);
      this.chunks = [];
      this.buffered = 0;
      this.need = 0;
      this.stderr = '';
      if (this.unreadable.size > MAX_UNREADABLE) {
        fail(new GitCommandError(args, `more than ${MAX_UNREADABLE} objects cannot be read`, code));
        return;
      }
      culprit.resolve(null);
      if (!this.pending.length) return;
      const next = this.start();
      for (const p of this.pending) next.stdin.write(p.name + '\n');
    });
    this.proc = proc;
    return proc;
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drain();
  }

  private drain(): void {
    while (this.pending.length && this.buffered > 0 && this.buffered >= this.need) {
      const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [buf];
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      const header = buf.toString('utf8', 0, nl);
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.consume(buf, nl + 1);
        const asked = this.pending.shift()!;
        // An object id that is not there (a missing loose object); `rev:path` names are just absent paths.
        if (/^[0-9a-f]{40,64}$/.test(asked.name)) this.unreadable.add(asked.name);
        asked.resolve(null);
        continue;
      }
      const [oid, type, sizeText] = header.split(' ');
      const size = Number(sizeText);
      if (!this.withData) {
        this.consume(buf, nl + 1);
        this.pending.shift()!.resolve({ oid, type, size });
        continue;
      }
      const end = nl + 1 + size + 1;
      if (buf.length < end) {
        this.need = end;
        return;
      }
      const data = Buffer.from(buf.subarray(nl + 1, nl + 1 + size));
      this.consume(buf, end);
      this.pending.shift()!.resolve({ oid, type, size, data });
    }
  }

  private consume(buf: Buffer, n: number): void {
    const rest = buf.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    this.need = 0;
  }
}

/** Reads objects by name (`<oid>`, `<rev>:<path>`) from one repository. */
export class CatFile {
  private readonly contents: BatchProcess;
  private readonly infos: BatchProcess;
  /**
   * Names git could not read (corrupt, or absent from a partial clone or a mirror), and those
   * known absent beforehand: they answer null without asking git again.
   */
  readonly unreadable = new Set<string>();

  /** `absent`: objects known beforehand not to be there (a partial clone's), never asked for. */
  constructor(git: GitRunner, absent: ReadonlySet<string> = new Set()) {
    this.contents = new BatchProcess(git, true, this.unreadable, absent);
    this.infos = new BatchProcess(git, false, this.unreadable, absent);
  }

  /** The object with its bytes, or null when it does not exist. */
  read(name: string): Promise<GitObject | null> {
    return this.contents.request(name) as Promise<GitObject | null>;
  }

  /** Type and size without the bytes, or null when it does not exist. */
  info(name: string): Promise<ObjectInfo | null> {
    return this.infos.request(name);
  }

  close(): void {
    this.contents.close();
    this.infos.close();
  }
}

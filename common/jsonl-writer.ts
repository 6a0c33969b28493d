import { mkdirSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AtomicFile, whyNotWritable } from './atomic-write.js';
import { UserError } from './errors.js';

/** JSON lines into an AtomicFile, buffered so a large export costs few write calls. */
export class AtomicJsonlWriter {
  lines = 0;
  private readonly out: AtomicFile;
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(readonly path: string) {
    const dir = dirname(path);
    try {
      mkdirSync(dir, { recursive: true });
      this.out = new AtomicFile(path);
    } catch (e) {
      throw new UserError(`cannot write to output folder ${dir}: ${whyNotWritable(e)}`);
    }
  }

  get tempPath(): string {
    return this.out.tempPath;
  }

  write(row: object): void {
    const line = JSON.stringify(row) + '\n';
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.lines++;
    if (this.pendingBytes > 1 << 20) this.flush();
  }

  commit(): void {
    this.flush();
    try {
      this.out.commit();
    } catch (e) {
      this.out.abort();
      throw new UserError(`cannot write ${this.path}: ${whyNotWritable(e)}`);
    }
  }

  /** Drops the temporary file; safe to call after commit(). */
  abort(): void {
    this.out.abort();
  }

  private flush(): void {
    if (!this.pending.length) return;
    try {
      writeSync(this.out.descriptor, this.pending.join(''));
    } catch (e) {
      this.out.abort();
      throw new UserError(`cannot write ${this.path}: ${whyNotWritable(e)}`);
    }
    this.pending = [];
    this.pendingBytes = 0;
  }
}

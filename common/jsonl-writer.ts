import { writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AtomicFile, cannotWrite, mkdirp, whyNotWritable } from './atomic-write.js';
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
      mkdirp(dir);
    } catch (e) {
      throw new UserError(`cannot write to output folder ${dir}: ${whyNotWritable(e)}`);
    }
    try {
      this.out = new AtomicFile(path);
    } catch (e) {
      throw cannotWrite(path, e);
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
      throw cannotWrite(this.path, e);
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
      throw cannotWrite(this.path, e);
    }
    this.pending = [];
    this.pendingBytes = 0;
  }
}

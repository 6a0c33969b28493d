import { closeSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError, messageOf } from '../engine/index.js';

function whyNot(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a part of the path is a file, not a folder';
  if (code === 'ENOSPC') return 'no space left on the device';
  return messageOf(e);
}

/**
 * Writes JSON lines to a temporary file beside `path` and renames it into place on commit(),
 * so a killed export never leaves a half-written file under the real name.
 */
export class AtomicJsonlWriter {
  readonly tempPath: string;
  lines = 0;
  private fd: number | null;
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(readonly path: string) {
    const dir = dirname(path);
    try {
      mkdirSync(dir, { recursive: true });
      this.tempPath = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      this.fd = openSync(this.tempPath, 'wx');
    } catch (e) {
      throw new UserError(`cannot write to output folder ${dir}: ${whyNot(e)}`);
    }
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
    closeSync(this.fd!);
    this.fd = null;
    renameSync(this.tempPath, this.path);
  }

  /** Drops the temporary file; safe to call after commit(). */
  abort(): void {
    if (this.fd === null) return;
    try { closeSync(this.fd); } catch { /* already closed */ }
    this.fd = null;
    try { unlinkSync(this.tempPath); } catch { /* never created */ }
  }

  private flush(): void {
    if (!this.pending.length) return;
    writeSync(this.fd!, this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

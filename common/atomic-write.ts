// Files are written under a temporary name in the same folder, fsynced, and renamed, so a kill
// never leaves a half-written file under the real name and a crash never leaves a renamed empty one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { messageOf } from './errors.js';

/** Why a write failed, in words a user can act on (for one-line errors). */
export function whyNotWritable(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a part of the path is a file, not a folder';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EDQUOT') return 'disk quota exceeded';
  return messageOf(e);
}

/** An open temporary file that becomes `file` on commit() and disappears on abort(). */
export class AtomicFile {
  readonly tempPath: string;
  private fd: number | null;

  constructor(readonly file: string) {
    this.tempPath = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    this.fd = fs.openSync(this.tempPath, 'wx');
  }

  get descriptor(): number {
    if (this.fd === null) throw new Error(`${this.file}: already committed or aborted`);
    return this.fd;
  }

  commit(): void {
    const fd = this.descriptor;
    try {
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      this.fd = null;
      fs.renameSync(this.tempPath, this.file);
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Drops the temporary file; safe to call after commit(). */
  abort(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = null;
    }
    fs.rmSync(this.tempPath, { force: true });
  }
}

/** Calls `write` with an open fd of a temp file beside `file`, fsyncs it, then renames it over `file`. */
export function writeFileAtomic(file: string, write: (fd: number) => void): void {
  const out = new AtomicFile(file);
  try {
    write(out.descriptor);
  } catch (e) {
    out.abort();
    throw e;
  }
  out.commit();
}

/** Atomically writes a whole string or buffer. */
export function writeTextAtomic(file: string, content: string | Uint8Array): void {
  writeFileAtomic(file, (fd) => {
    fs.writeFileSync(fd, content);
  });
}

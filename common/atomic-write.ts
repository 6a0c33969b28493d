// Files are written under a temporary name in the same folder, fsynced, and renamed, so a kill
// never leaves a half-written file under the real name and a crash never leaves a renamed empty one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { messageOf, UserError } from './errors.js';

/** Why a write failed, in words a user can act on (for one-line errors). */
export function whyNotWritable(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a part of the path is a file, not a folder';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EDQUOT') return 'disk quota exceeded';
  if (code === 'ENOENT') return 'a folder on the path does not exist';
  return messageOf(e);
}

/**
 * A failed write of `file` as one line naming it and the cause (read-only file system, no space
 * left, ...); an error that is not the file system's (a bug, a UserError) passes through unchanged.
 */
export function cannotWrite(file: string, e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || e instanceof UserError || typeof err.code !== 'string' || typeof err.syscall !== 'string') return e;
  return new UserError(`cannot write ${file}: ${whyNotWritable(e)}`);
}

/**
 * `mkdir -p dir` that fails with the file system's own error: Node 20's recursive mkdir reports a
 * read-only file system as ENOENT, so each missing folder is made on its own.
 */
export function mkdirp(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  fs.mkdirSync(dir, { recursive: true }); // a file in the way: EEXIST
}

/** `mkdir -p dir`, failing in one line that names the folder and the cause. */
export function makeFolder(dir: string): void {
  try {
    mkdirp(dir);
  } catch (e) {
    throw new UserError(`cannot create the folder ${dir}: ${whyNotWritable(e)}`);
  }
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

/**
 * Calls `write` with an open fd of a temp file beside `file`, fsyncs it, then renames it over `file`.
 * A file-system failure (read-only, full, ...) is one line naming `file`, and no temp file is left.
 */
export function writeFileAtomic(file: string, write: (fd: number) => void): void {
  let out: AtomicFile;
  try {
    out = new AtomicFile(file);
  } catch (e) {
    throw cannotWrite(file, e);
  }
  try {
    write(out.descriptor);
    out.commit();
  } catch (e) {
    out.abort();
    throw cannotWrite(file, e);
  }
}

/** Atomically writes a whole string or buffer. */
export function writeTextAtomic(file: string, content: string | Uint8Array): void {
  writeFileAtomic(file, (fd) => {
    fs.writeFileSync(fd, content);
  });
}

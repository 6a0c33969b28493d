// Files are written under a temporary name in the same folder and renamed, so a kill never
// leaves a half-written file under the real name.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Calls `write` with an open fd of a temp file beside `file`, fsyncs it, then renames it over `file`. */
export function writeFileAtomic(file: string, write: (fd: number) => void): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = fs.openSync(tmp, 'wx');
  try {
    write(fd);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    try { fs.closeSync(fd); } catch { /* already closed */ }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Atomically writes a whole string or buffer. */
export function writeTextAtomic(file: string, content: string | Uint8Array): void {
  writeFileAtomic(file, (fd) => { fs.writeFileSync(fd, content); });
}

// One `adapt` at a time per output folder: a lock file holding the owner's pid and host. A lock
// whose process is gone (killed, crashed) is stale and taken over.
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { mkdirp, UserError, whyNotWritable } from '../../common/index.js';

export const LOCK_FILE = 'adapt.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  repository: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | undefined {
  try {
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof json?.pid === 'number' ? (json as LockInfo) : undefined;
  } catch {
    return undefined;
  }
}

function writeFailure(dir: string, e: unknown): UserError {
  return new UserError(`cannot write to the output folder ${dir}: ${whyNotWritable(e)}; pass --out DIR to write elsewhere`);
}

/** Creates `file` holding `text`, failing with EEXIST when it exists; a failed write leaves no file behind. */
function createFile(file: string, text: string): void {
  const fd = fs.openSync(file, 'wx');
  try {
    fs.writeFileSync(fd, text);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw e;
  }
  fs.closeSync(fd);
}

export class AdaptLock {
  private released = false;

  private constructor(readonly file: string) {}

  /** Takes the lock of `dir` (creating the folder), or throws a UserError naming the run that holds it. */
  static acquire(dir: string, repository: string): AdaptLock {
    try {
      mkdirp(dir);
    } catch (e) {
      throw writeFailure(dir, e);
    }
    const file = path.join(dir, LOCK_FILE);
    const mine: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), repository };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        createFile(file, `${JSON.stringify(mine)}\n`);
        return new AdaptLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(dir, e);
      }
      const held = readLock(file);
      if (held && held.host !== mine.host) {
        throw new UserError(`${file} says codefudge adapt (pid ${held.pid}) is running on host ${held.host}; delete the file if it is not`);
      }
      if (held && alive(held.pid)) {
        throw new UserError(
          `another codefudge adapt (pid ${held.pid}, started ${held.started}) is running on ${held.repository}; wait for it or stop it`,
        );
      }
      AdaptLock.removeStale(file, held);
    }
    throw new UserError(`cannot take the lock ${file}: other runs keep taking it`);
  }

  /**
   * Moves the stale lock aside under a name of our own and deletes it only if it is still the one
   * we judged stale; a lock another run wrote meanwhile is put back.
   */
  private static removeStale(file: string, judged: LockInfo | undefined): void {
    const aside = `${file}.${process.pid}.stale`;
    try {
      fs.renameSync(file, aside);
    } catch {
      return; // someone else moved it first: try again
    }
    const now = readLock(aside);
    if (now && judged && now.pid !== judged.pid) {
      try {
        fs.linkSync(aside, file);
      } catch {
        /* a newer lock is there: it wins */
      }
    }
    fs.rmSync(aside, { force: true });
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // Only our own lock: never one a later run took over.
    if (readLock(this.file)?.pid === process.pid) fs.rmSync(this.file, { force: true });
  }
}

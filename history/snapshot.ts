import type { SkippedFile } from './changes.js';
import { decodeText, looksBinary } from './decode.js';
import { FileFilter, type FileFilterOptions } from './filters.js';
import type { HistoryRepository } from './repository.js';

/** A code file as it is at one revision. */
export interface SnapshotFile {
  /** The commit the file was read at. */
  sha: string;
  path: string;
  blob: string;
  text: string;
}

export interface Snapshot {
  sha: string;
  files: SnapshotFile[];
  skipped: SkippedFile[];
}

export interface SnapshotOptions extends FileFilterOptions {
  /** Blobs already taken (shared across revisions): a file whose blob is here is not read again. */
  seenBlobs?: Set<string>;
}

/** The code files of a commit's tree, identical contents (same blob) taken once. */
export async function readSnapshot(
  repo: HistoryRepository,
  sha: string,
  opts: SnapshotOptions = {},
  filter = new FileFilter(opts),
): Promise<Snapshot> {
  // Sizes (-l) make git read every blob, which a partial clone may not have: ask for them one by one there.
  const out = await repo.git.text(['ls-tree', '-r', '-z', ...(repo.partialClone ? [] : ['-l']), '--full-tree', sha]);
  const seen = opts.seenBlobs ?? new Set<string>();
  const files: SnapshotFile[] = [];
  const skipped: SkippedFile[] = [];
  for (const line of out.split('\0')) {
    if (!line) continue;
    const tab = line.indexOf('\t');
    const [mode, type, blob, sizeText] = line.slice(0, tab).split(/ +/);
    const path = line.slice(tab + 1);
    const skip = (reason: SkippedFile['reason']) => skipped.push({ path, status: '', reason });
    if (type !== 'blob' || !(mode === '100644' || mode === '100755') || path.includes('\uFFFD')) {
      skip('not-a-file');
      continue;
    }
    const attrs = await repo.attributes.forPath(sha, path);
    const reason = filter.byPath(path, attrs);
    if (reason) {
      skip(reason);
      continue;
    }
    if (filter.binaryByAttributes(attrs)) {
      skip('binary');
      continue;
    }
    if (seen.has(blob)) continue;
    const size = repo.partialClone ? (await repo.cat.info(blob))?.size : Number(sizeText);
    if (size === undefined) {
      skip('unreadable');
      continue;
    }
    if (size > filter.maxFileBytes) {
      skip('too-large');
      continue;
    }
    const obj = await repo.cat.read(blob);
    if (!obj) {
      skip('unreadable');
      continue;
    }
    if (looksBinary(obj.data)) {
      skip('binary');
      continue;
    }
    seen.add(blob);
    files.push({ sha, path, blob, text: decodeText(obj.data).text });
  }
  return { sha, files, skipped };
}

/** Every blob in a commit's tree: what a model trained through that commit has already seen. */
export async function blobsAt(repo: HistoryRepository, sha: string): Promise<Set<string>> {
  const out = await repo.git.text(['ls-tree', '-r', '-z', '--full-tree', sha]);
  const blobs = new Set<string>();
  for (const line of out.split('\0')) {
    const [, type, oid] = line.slice(0, line.indexOf('\t')).split(' ');
    if (type === 'blob') blobs.add(oid);
  }
  return blobs;
}

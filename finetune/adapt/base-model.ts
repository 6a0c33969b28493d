// Which base model an adapter belongs to, by content rather than place: the same model copied
// elsewhere is the same model, and another model with the same folder name is not.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelFolder } from '../../engine/index.js';

/** Bytes read from each end of a weight file: its header (names, shapes) and weights at both ends. */
const SAMPLE_BYTES = 1 << 20;

function hashFileEnds(hash: ReturnType<typeof createHash>, file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    hash.update(`${size}\n`);
    const read = (at: number, n: number) => {
      const buf = Buffer.alloc(n);
      const got = fs.readSync(fd, buf, 0, n, at);
      hash.update(buf.subarray(0, got));
    };
    if (size <= 2 * SAMPLE_BYTES) read(0, size);
    else {
      read(0, SAMPLE_BYTES);
      read(size - SAMPLE_BYTES, SAMPLE_BYTES);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A content fingerprint of a model folder: config, tokenizer and both ends of every weight file. */
export function baseModelFingerprint(folder: ModelFolder): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(folder.config.raw));
  const tokenizer = path.join(folder.dir, 'tokenizer.json');
  if (fs.existsSync(tokenizer)) hashFileEnds(hash, tokenizer);
  const files = [...folder.weights.files].sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
  for (const file of files) {
    hash.update(`${path.basename(file)}\n`);
    hashFileEnds(hash, file);
  }
  return hash.digest('hex').slice(0, 16);
}

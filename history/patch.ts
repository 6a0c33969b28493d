import { decodeAs, decodeText, type TextEncodingName } from './decode.js';

const DIFF_HEADER = Buffer.from('diff --git ');
const NEXT_HEADER = Buffer.from('\ndiff --git ');

/** Splits `git diff -p` output into one chunk per file, each starting with `diff --git `. */
export function splitPatch(patch: Buffer): Buffer[] {
  if (!patch.length) return [];
  if (!patch.subarray(0, DIFF_HEADER.length).equals(DIFF_HEADER)) {
    throw new Error(`unexpected patch output: ${JSON.stringify(patch.toString('utf8', 0, 80))}`);
  }
  const chunks: Buffer[] = [];
  let start = 0;
  for (;;) {
    const at = patch.indexOf(NEXT_HEADER, start);
    if (at < 0) break;
    chunks.push(patch.subarray(start, at + 1));
    start = at + 1;
  }
  chunks.push(patch.subarray(start));
  return chunks;
}

export interface FileDiff {
  /** From the `---` line on: a unified diff `patch -p1` and `git apply` take; '' when there is no text change. */
  text: string;
  /** 1-based line numbers, in the file after the change, of the lines the change adds. */
  addedLines: number[];
  binary: boolean;
}

const HUNK = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/**
 * Decodes one file's chunk. Removed and context lines come from the old file and added lines
 * from the new one, so each is decoded the way that file's text was, and the diff agrees
 * with `before` and `after` even when they are not UTF-8.
 */
export function decodeFileDiff(chunk: Buffer, before: TextEncodingName, after: TextEncodingName): FileDiff {
  const out: string[] = [];
  const addedLines: number[] = [];
  let binary = false;
  let inBody = false;
  let newLine = 0;
  let pos = 0;
  while (pos < chunk.length) {
    let nl = chunk.indexOf(10, pos);
    if (nl < 0) nl = chunk.length;
    const line = chunk.subarray(pos, nl);
    pos = nl + 1;
    const first = line[0];
    if (!inBody) {
      const head = line.toString('latin1', 0, 13);
      if (head.startsWith('Binary files ') || head.startsWith('GIT binary pa')) binary = true;
      if (!head.startsWith('--- ')) continue;
      inBody = true;
      out.push(decodeText(line).text);
      continue;
    }
    if (first === 0x40 /* @ */) {
      const text = decodeText(line).text;
      const m = HUNK.exec(text);
      if (m) newLine = Number(m[1]);
      out.push(text);
    } else if (first === 0x2b /* + */ && out.length > 1) {
      addedLines.push(newLine++);
      out.push(decodeAs(line, after));
    } else if (first === 0x20 /* space */ || line.length === 0) {
      newLine++;
      out.push(decodeAs(line, before));
    } else if (first === 0x2d /* - */) {
      out.push(decodeAs(line, before));
    } else {
      // `+++` header, `\ No newline at end of file`
      out.push(decodeText(line).text);
    }
  }
  return { text: out.length ? out.join('\n') + '\n' : '', addedLines, binary };
}

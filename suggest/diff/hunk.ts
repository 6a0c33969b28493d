// The parts of a unified diff for one file, as plain data.

/** ' ' keeps a line, '-' removes it, '+' adds it. */
export type DiffOp = ' ' | '-' | '+';

export interface DiffLine {
  op: DiffOp;
  /** The line without its '\n' (a CRLF file's lines keep their '\r'). */
  text: string;
  /** false when the diff marks it "\ No newline at end of file". */
  eol: boolean;
}

export interface Hunk {
  /** 1-based first old line as the header says (0 with oldCount 0: the file start). */
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  /** What follows the closing `@@` (git's function context), without the leading space. */
  section: string;
  lines: DiffLine[];
}

export interface FilePatch {
  /** From the `---` and `+++` lines, as written (`a/x.py`, `/dev/null`); null without headers. */
  oldPath: string | null;
  newPath: string | null;
  hunks: Hunk[];
}

/** One replaced run of lines: `removed` (old lines from `start`, 0-based) become `added`. Lines keep their '\n'. */
export interface LineEdit {
  start: number;
  removed: string[];
  added: string[];
}

/** The line as it stands in a file: its text and, unless marked otherwise, '\n'. */
export function lineText(l: DiffLine): string {
  return l.eol ? `${l.text}\n` : l.text;
}

export function countSides(lines: readonly DiffLine[]): { old: number; new: number } {
  let o = 0;
  let n = 0;
  for (const l of lines) {
    if (l.op !== '+') o++;
    if (l.op !== '-') n++;
  }
  return { old: o, new: n };
}

/** Whether the hunk changes anything (it has a removed or an added line). */
export function hasChange(h: Hunk): boolean {
  return h.lines.some((l) => l.op !== ' ');
}

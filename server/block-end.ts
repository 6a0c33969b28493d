// Where a completion ends: at the end of the cursor's line (single-line), or where it leaves the
// cursor's block (multi-line). Both are used while generating (to stop early) and afterwards.

const TAB_WIDTH = 4;

/** Columns of the leading whitespace of `line` (a tab counts as 4). */
export function indentWidth(line: string): number {
  let width = 0;
  for (const c of line) {
    if (c === ' ') width++;
    else if (c === '\t') width += TAB_WIDTH;
    else break;
  }
  return width;
}

const isBlank = (line: string) => line.trim() === '';

/** Length of `text` up to its first line break, or undefined while it has none. */
export function lineEndCut(text: string): number | undefined {
  const i = text.indexOf('\n');
  return i < 0 ? undefined : i;
}

/**
 * Length of `text` up to where it leaves the block the cursor is in, or undefined while it has not:
 * before the first line indented less than the cursor's line (lines of a completion must never
 * break the indentation they are inserted into), or at a blank line followed by a dedent (the end
 * of a definition written at the cursor's level). `lineBefore` is the cursor's line up to the cursor.
 * A line is judged only once it has a non-blank character, so a half-generated text is never cut early.
 */
export function blockEndCut(text: string, lineBefore: string): number | undefined {
  const blockIndent = indentWidth(lineBefore);
  const lines = text.split('\n');
  const firstLine = lineBefore + lines[0];
  let previousIndent = isBlank(firstLine) ? blockIndent : indentWidth(firstLine);
  let offset = lines[0].length; // offset of the '\n' that ends the current line
  let blankStart: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const breakBefore = offset;
    offset += 1 + line.length;
    if (isBlank(line)) {
      blankStart ??= breakBefore;
      continue;
    }
    const indent = indentWidth(line);
    if (indent < blockIndent) return blankStart ?? breakBefore;
    if (blankStart !== undefined && indent < previousIndent) return blankStart;
    blankStart = undefined;
    previousIndent = indent;
  }
  return undefined;
}

/** A text's lines by 0-based row: where each starts and ends (before its newline). */
export class Lines {
  readonly starts: number[] = [];

  constructor(readonly text: string) {
    for (let i = 0; i <= text.length;) {
      this.starts.push(i);
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl + 1;
    }
    // A final newline ends the last line; it does not start an empty one.
    if (this.starts.length > 1 && this.starts[this.starts.length - 1] === text.length) this.starts.pop();
  }

  get count(): number {
    return this.starts.length;
  }

  start(row: number): number {
    return this.starts[row];
  }

  /** Offset just past the row's last character (its newline not included). */
  end(row: number): number {
    let next = row + 1 < this.starts.length ? this.starts[row + 1] - 1 : this.text.length;
    if (next === this.text.length && this.text.endsWith('\n') && next > this.starts[row]) next--;
    return this.text[next - 1] === '\r' && next > this.starts[row] ? next - 1 : next;
  }

  line(row: number): string {
    return this.text.slice(this.start(row), this.end(row));
  }

  /** The row holding character `offset`. */
  rowOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

export function isBlank(line: string): boolean {
  return line.trim() === '';
}

/** Leading spaces and tabs. */
export function indentWidth(line: string): number {
  return line.length - line.replace(/^[ \t]+/, '').length;
}

/** A line worth predicting: it holds a letter or digit (not just `}` or `)`). */
export function hasWord(line: string): boolean {
  return /[\p{L}\p{N}_]/u.test(line);
}

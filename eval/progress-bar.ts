// A one-line progress bar for long loops: count, rate and time left, redrawn in place on a
// terminal (at most every 100 ms). On anything else it stays silent, so logs and pipes get no
// carriage-return noise; `finish` prints one closing line there instead.

export interface ProgressStream {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** What is counted, after the rate: "tasks" gives "3.1 tasks/s". */
  unit?: string;
  /** Redraw in place; default: whether the stream is a terminal. */
  live?: boolean;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly unit: string;
  private readonly live: boolean;
  private readonly now: () => number;
  private label = '';
  private total = 0;
  private done = 0;
  private started = 0;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(opts: ProgressBarOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.unit = opts.unit ?? 'items';
    this.live = opts.live ?? !!this.stream.isTTY;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Starts (or restarts for a new phase) counting `total` items under `label`. */
  start(label: string, total: number): void {
    // The finished phase keeps its line.
    if (this.live && this.drawn) this.stream.write('\n');
    this.label = label;
    this.total = total;
    this.done = 0;
    this.started = this.now();
    this.lastDraw = -Infinity;
    this.draw(true);
  }

  update(done: number): void {
    this.done = done;
    this.draw(done >= this.total);
  }

  /** The bar's text: label, bar, count, rate and time left. */
  line(width = 100): string {
    const seconds = (this.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const left = rate > 0 ? (this.total - this.done) / rate : Infinity;
    const stats = `${this.done}/${this.total} ${rate.toFixed(rate < 10 ? 2 : 1)} ${this.unit}/s ETA ${formatDuration(this.done >= this.total ? 0 : left)}`;
    const barWidth = Math.max(10, Math.min(40, width - this.label.length - stats.length - 4));
    const filled = this.total > 0 ? Math.round((barWidth * Math.min(this.done, this.total)) / this.total) : barWidth;
    return `${this.label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${stats}`;
  }

  private draw(force: boolean): void {
    if (!this.live) return;
    const t = this.now();
    if (!force && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    this.drawn = true;
    this.stream.write(`\r${this.line((this.stream.columns ?? 100) - 1)}\x1b[K`);
  }

  /** Ends the bar: a newline on a terminal, a summary line elsewhere. */
  finish(summary?: string): void {
    if (this.live) { if (this.drawn) this.stream.write('\n'); }
    else if (summary) this.stream.write(`${summary}\n`);
  }
}

// A one-line progress bar for long loops: count, extra fields (loss, tokens/s, ...), rate and time
// left, redrawn in place on a terminal (at most every 100 ms). On anything else it stays silent,
// so logs and pipes get no carriage-return noise, unless `logEveryMs` asks for a plain line now
// and then; `finish` prints one closing line there instead.

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
  /** When not live: write the line (ending in a newline) at most this often; default never. */
  logEveryMs?: number;
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
  private readonly logEveryMs: number | undefined;
  private readonly now: () => number;
  private label = '';
  private total = 0;
  private done = 0;
  /** Where this phase started counting: a resumed run's rate covers only what it did itself. */
  private initial = 0;
  private fields: Record<string, string> = {};
  private started = 0;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(opts: ProgressBarOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.unit = opts.unit ?? 'items';
    this.live = opts.live ?? !!this.stream.isTTY;
    this.logEveryMs = opts.logEveryMs;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Starts (or restarts for a new phase) counting `total` items under `label`, `initial` of them already done. */
  start(label: string, total: number, initial = 0): void {
    // The finished phase keeps its line.
    if (this.live && this.drawn) this.stream.write('\n');
    this.label = label;
    this.total = total;
    this.done = initial;
    this.initial = initial;
    this.fields = {};
    this.started = this.now();
    this.lastDraw = this.live ? -Infinity : this.started;
    this.draw(true);
  }

  /** `fields` (name -> shown value) replace the previous ones when given. */
  update(done: number, fields?: Record<string, string>): void {
    this.done = done;
    if (fields) this.fields = fields;
    this.draw(done >= this.total);
  }

  /** The bar's text: label, bar, count, fields, rate and time left. */
  line(width = 100): string {
    const seconds = (this.now() - this.started) / 1000;
    const rate = seconds > 0 ? (this.done - this.initial) / seconds : 0;
    const left = rate > 0 ? (this.total - this.done) / rate : Infinity;
    const extra = Object.entries(this.fields)
      .map(([k, v]) => `${k} ${v} `)
      .join('');
    const stats = `${this.done}/${this.total} ${extra}${rate.toFixed(rate < 10 ? 2 : 1)} ${this.unit}/s ETA ${formatDuration(this.done >= this.total ? 0 : left)}`;
    const barWidth = Math.max(10, Math.min(40, width - this.label.length - stats.length - 4));
    const filled = this.total > 0 ? Math.round((barWidth * Math.min(this.done, this.total)) / this.total) : barWidth;
    return `${this.label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${stats}`;
  }

  private draw(force: boolean): void {
    const t = this.now();
    if (!this.live) {
      if (this.logEveryMs === undefined || t - this.lastDraw < this.logEveryMs) return;
      this.lastDraw = t;
      this.stream.write(`${this.line()}\n`);
      return;
    }
    if (!force && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    this.drawn = true;
    this.stream.write(`\r${this.line((this.stream.columns ?? 100) - 1)}\x1b[K`);
  }

  /** Ends the bar: a newline on a terminal, a summary line elsewhere. */
  finish(summary?: string): void {
    if (this.live) {
      if (this.drawn) this.stream.write('\n');
      this.drawn = false;
    } else if (summary) this.stream.write(`${summary}\n`);
  }
}

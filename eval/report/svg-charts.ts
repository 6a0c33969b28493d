// Inline SVG charts (no script, no external resources): grouped bars with interval whiskers,
// and overlaid histograms.
import { escapeHtml } from './escape.js';

export interface Series {
  label: string;
  color: string;
}

export interface Bar {
  value: number;
  /** A whisker from low to high (absolute values on the chart's scale). */
  low?: number;
  high?: number;
}

export interface BarGroup {
  label: string;
  /** One bar per series, in series order. */
  bars: Bar[];
}

export interface BarChartOptions {
  title: string;
  series: readonly Series[];
  groups: readonly BarGroup[];
  /** Top of the value axis (bottom is 0). */
  max: number;
  format: (v: number) => string;
  width?: number;
  height?: number;
}

const FONT = 'font-family="system-ui,sans-serif"';
const n = (v: number) => (Math.round(v * 10) / 10).toString();

function axis(x0: number, y0: number, plotW: number, plotH: number, max: number, format: (v: number) => string): string {
  const parts: string[] = [];
  for (const f of [0, 0.5, 1]) {
    const y = y0 + plotH - f * plotH;
    parts.push(`<line x1="${n(x0)}" y1="${n(y)}" x2="${n(x0 + plotW)}" y2="${n(y)}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${n(x0 - 4)}" y="${n(y + 4)}" text-anchor="end" font-size="10" fill="#555" ${FONT}>${escapeHtml(format(f * max))}</text>`,
    );
  }
  return parts.join('');
}

export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 300;
  const height = o.height ?? 210;
  const left = 44;
  const top = 26;
  const bottom = 62;
  const plotW = width - left - 8;
  const plotH = height - top - bottom;
  const max = o.max > 0 ? o.max : 1;
  const y = (v: number) => top + plotH - (Math.max(0, Math.min(v, max)) / max) * plotH;
  const groupW = plotW / Math.max(1, o.groups.length);
  const barW = Math.min(28, (groupW * 0.8) / Math.max(1, o.series.length));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`,
    `<title>${escapeHtml(o.title)}</title>`,
    `<text x="${width / 2}" y="15" text-anchor="middle" font-size="12" font-weight="600" ${FONT}>${escapeHtml(o.title)}</text>`,
    axis(left, top, plotW, plotH, max, o.format),
  ];
  o.groups.forEach((g, gi) => {
    const gx = left + gi * groupW + (groupW - barW * o.series.length) / 2;
    g.bars.forEach((b, si) => {
      const x = gx + si * barW;
      const yv = y(b.value);
      parts.push(
        `<rect x="${n(x)}" y="${n(yv)}" width="${n(barW - 2)}" height="${n(top + plotH - yv)}" fill="${o.series[si].color}"><title>${escapeHtml(`${g.label} ${o.series[si].label}: ${o.format(b.value)}`)}</title></rect>`,
      );
      if (b.low !== undefined && b.high !== undefined && Number.isFinite(b.low) && Number.isFinite(b.high)) {
        const cx = x + (barW - 2) / 2;
        parts.push(
          `<path d="M${n(cx)} ${n(y(b.low))}V${n(y(b.high))}M${n(cx - 3)} ${n(y(b.low))}h6M${n(cx - 3)} ${n(y(b.high))}h6" stroke="#222" stroke-width="1.2" fill="none"/>`,
        );
      }
    });
    // Slanted, so long set names next to each other do not run into one another.
    const label = g.label.length > 14 ? `${g.label.slice(0, 13)}…` : g.label;
    const lx = n(left + gi * groupW + groupW / 2 + 3);
    const ly = n(top + plotH + 11);
    parts.push(
      `<text x="${lx}" y="${ly}" transform="rotate(-25 ${lx} ${ly})" text-anchor="end" font-size="10" fill="#333" ${FONT}>${escapeHtml(label)}</text>`,
    );
  });
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#888"/>`);
  parts.push(legend(o.series, left, height - 8));
  parts.push('</svg>');
  return parts.join('');
}

function legend(series: readonly Series[], x: number, y: number): string {
  return series
    .map((s, i) => {
      const lx = x + i * 90;
      return `<rect x="${lx}" y="${y - 9}" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="${y}" font-size="10" ${FONT}>${escapeHtml(s.label)}</text>`;
    })
    .join('');
}

export interface HistogramOptions {
  title: string;
  series: ReadonlyArray<Series & { values: readonly number[] }>;
  min: number;
  max: number;
  bins?: number;
  format: (v: number) => string;
  width?: number;
  height?: number;
}

/** Counts of values per equal-width bin over [min, max]; values outside are clamped into the end bins. */
export function binCounts(values: readonly number[], min: number, max: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const span = max - min || 1;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - min) / span) * bins)))]++;
  }
  return counts;
}

export function histogram(o: HistogramOptions): string {
  const width = o.width ?? 420;
  const height = o.height ?? 220;
  const bins = o.bins ?? 10;
  const left = 40;
  const top = 26;
  const bottom = 42;
  const plotW = width - left - 10;
  const plotH = height - top - bottom;
  const counts = o.series.map((s) => binCounts(s.values, o.min, o.max, bins));
  const peak = Math.max(1, ...counts.flat());
  const binW = plotW / bins;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`,
    `<title>${escapeHtml(o.title)}</title>`,
    `<text x="${width / 2}" y="15" text-anchor="middle" font-size="12" font-weight="600" ${FONT}>${escapeHtml(o.title)}</text>`,
    axis(left, top, plotW, plotH, peak, (v) => String(Math.round(v))),
  ];
  const barW = binW / Math.max(1, o.series.length);
  counts.forEach((cs, si) => {
    cs.forEach((c, b) => {
      const h = (c / peak) * plotH;
      const x = left + b * binW + si * barW;
      const lo = o.min + ((o.max - o.min) * b) / bins;
      const hi = o.min + ((o.max - o.min) * (b + 1)) / bins;
      parts.push(
        `<rect x="${n(x + 0.5)}" y="${n(top + plotH - h)}" width="${n(barW - 1)}" height="${n(h)}" fill="${o.series[si].color}"><title>${escapeHtml(`${o.series[si].label} ${o.format(lo)}–${o.format(hi)}: ${c}`)}</title></rect>`,
      );
    });
  });
  for (let b = 0; b <= bins; b += bins / 5) {
    const x = left + b * binW;
    const v = o.min + ((o.max - o.min) * b) / bins;
    parts.push(
      `<text x="${n(x)}" y="${n(top + plotH + 13)}" text-anchor="middle" font-size="10" fill="#555" ${FONT}>${escapeHtml(o.format(v))}</text>`,
    );
  }
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#888"/>`);
  parts.push(legend(o.series, left, height - 6));
  parts.push('</svg>');
  return parts.join('');
}

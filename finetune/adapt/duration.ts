import { UserError } from '../../common/index.js';

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 };

/** `20m`, `90s`, `1h30m`, `1.5h` or bare seconds (`300`), in seconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  let seconds = 0;
  if (/^\d+(\.\d+)?$/.test(t)) seconds = Number(t);
  else if (/^(\d+(\.\d+)?[hms])+$/.test(t)) {
    for (const m of t.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) seconds += Number(m[1]) * UNIT_SECONDS[m[2]];
  } else seconds = NaN;
  if (!(seconds > 0) || !Number.isFinite(seconds)) throw new UserError(`--time must be a duration like 20m, 90s or 1h30m, got "${text}"`);
  return seconds;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

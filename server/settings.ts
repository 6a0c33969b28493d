// The server's settings: defaults, and merging what a client sends (initializationOptions,
// workspace/didChangeConfiguration) with a report of every value it had to ignore.
import { checkBackendSetting, type BackendSetting } from './backend/backend-setting.js';

export type CompletionMode = 'single-line' | 'multi-line';
/** Prompt order: prefix-suffix-middle, or suffix-prefix-middle (where the model's FIM template has it). */
export type FimOrder = 'psm' | 'spm';

export interface Settings {
  /** A model folder or hub id; undefined: the `--model` flag, else the embedded model. */
  model?: string;
  /** An adapter folder; undefined: `<workspace>/.codefudge/adapter/` when present; false: none. */
  adapter?: string | false;
  /** Most tokens generated per completion. */
  maxTokens: number;
  mode: CompletionMode;
  /** Wait this long after an automatic request before running the model (a newer request supersedes it). */
  debounceMs: number;
  maxPrefixTokens: number;
  maxSuffixTokens: number;
  /**
   * The suffix budget in single-line mode (the smaller of this and maxSuffixTokens). With the psm
   * prompt order the suffix follows the prefix, so each keystroke re-runs every suffix token (the KV
   * cache keeps only the unchanged prefix); single-line completions, asked for at every keystroke
   * and judged by their latency, depend mostly on the few lines after the cursor.
   */
  singleLineSuffixTokens: number;
  /** 0 decodes greedily. */
  temperature: number;
  /**
   * spm puts the suffix before the prefix, so typing forward changes only the prompt's end and nearly
   * all of it is reused from the KV cache; for models trained on it (StarCoder-style templates).
   */
  fimMode: FimOrder | 'auto';
  /** false re-runs the whole prompt every time (benchmarks compare both). */
  reusePrefixCache: boolean;
  /** A completion whose tokens start repeating one n-gram (≤16 tokens, 3 times) ends at its first copy. */
  stopOnLoop: boolean;
  /**
   * Treat Invoked completion requests as automatic (debounced, skipped mid-word): Helix sends its
   * automatic completions as Invoked. Undefined: true for Helix (its clientInfo), false otherwise.
   */
  invokedIsAutomatic?: boolean;
  /** Weights int4 or int8 (quantized at load, cached) or none (float32); undefined: `--quant`, else by model size. */
  quant?: 'int4' | 'int8' | 'none';
  /** An OpenAI-compatible server that completes instead of this process (vLLM, llama-server, Ollama, serve --http). */
  backend?: BackendSetting;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  maxTokens: 48,
  mode: 'multi-line',
  debounceMs: 40,
  maxPrefixTokens: 1024,
  maxSuffixTokens: 256,
  singleLineSuffixTokens: 64,
  temperature: 0,
  fimMode: 'auto',
  reusePrefixCache: true,
  stopOnLoop: true,
});

type Check = (value: unknown) => { ok: true; value: unknown } | { ok: false; expected: string };

const int =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? { ok: true, value: v }
      : { ok: false, expected: `an integer in ${min}..${max}` };

const bool: Check = (v) => (typeof v === 'boolean' ? { ok: true, value: v } : { ok: false, expected: 'true or false' });

const CHECKS: Record<keyof Settings, Check> = {
  model: (v) =>
    v === null || v === ''
      ? { ok: true, value: undefined }
      : typeof v === 'string'
        ? { ok: true, value: v }
        : { ok: false, expected: 'a string' },
  adapter: (v) =>
    v === null || v === ''
      ? { ok: true, value: undefined }
      : typeof v === 'string' || v === false
        ? { ok: true, value: v }
        : { ok: false, expected: 'a folder path or false' },
  maxTokens: int(1, 1024),
  mode: (v) =>
    v === 'single-line' || v === 'multi-line' ? { ok: true, value: v } : { ok: false, expected: '"single-line" or "multi-line"' },
  debounceMs: int(0, 10_000),
  maxPrefixTokens: int(0, 1 << 20),
  maxSuffixTokens: int(0, 1 << 20),
  singleLineSuffixTokens: int(0, 1 << 20),
  temperature: (v) => (typeof v === 'number' && v >= 0 && v <= 10 ? { ok: true, value: v } : { ok: false, expected: 'a number in 0..10' }),
  fimMode: (v) => (v === 'psm' || v === 'spm' || v === 'auto' ? { ok: true, value: v } : { ok: false, expected: '"psm", "spm" or "auto"' }),
  reusePrefixCache: bool,
  stopOnLoop: bool,
  invokedIsAutomatic: (v) => (v === null ? { ok: true, value: undefined } : bool(v)),
  quant: (v) =>
    v === null || v === ''
      ? { ok: true, value: undefined }
      : v === 'int4' || v === 'int8' || v === 'none'
        ? { ok: true, value: v }
        : { ok: false, expected: '"int4", "int8" or "none"' },
  backend: checkBackendSetting,
};

/** Clients send settings bare or under a "codefudge" key (the VS Code convention). */
function unwrap(raw: unknown): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const obj = raw as Record<string, unknown>;
  const inner = obj.codefudge;
  if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) return inner as Record<string, unknown>;
  return obj;
}

export interface MergedSettings {
  settings: Settings;
  /** One line per ignored value, naming it. */
  problems: string[];
  /** Names of the settings whose value changed. */
  changed: (keyof Settings)[];
}

/** `base` updated with the recognised, valid fields of `raw`; anything else is reported and ignored. */
export function mergeSettings(base: Settings, raw: unknown): MergedSettings {
  const settings: Settings = { ...base };
  const problems: string[] = [];
  const changed: (keyof Settings)[] = [];
  const fields = unwrap(raw);
  if (raw !== undefined && raw !== null && !fields) problems.push('settings must be an object');
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (!(key in CHECKS)) {
      problems.push(`unknown setting "${key}"`);
      continue;
    }
    const name = key as keyof Settings;
    const r = CHECKS[name](value);
    if (!r.ok) {
      problems.push(`setting "${key}" must be ${r.expected}, got ${JSON.stringify(value)}`);
      continue;
    }
    // Compared as JSON: an object setting sent again unchanged is no change.
    if (JSON.stringify(settings[name]) !== JSON.stringify(r.value)) changed.push(name);
    (settings as unknown as Record<string, unknown>)[name] = r.value;
  }
  return { settings, problems, changed };
}

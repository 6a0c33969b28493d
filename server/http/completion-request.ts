// POST /v1/completions's body, checked field by field against OpenAI's schema: a wrong type or an
// out-of-range value is a 400 naming the field, never a crash or a silent default.
import { HttpError } from './http-errors.js';

export interface Limits {
  /** Largest request body (1 MiB). */
  maxBodyBytes: number;
  /** Largest max_tokens a request may ask for (1024). */
  maxTokens: number;
  /** Most choices (n, best_of: beams) per request (8). */
  maxChoices: number;
  /** Most stop strings (16). */
  maxStop: number;
  /** Most requests waiting for the model (64). */
  maxQueue: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBodyBytes: 1 << 20,
  maxTokens: 1024,
  maxChoices: 8,
  maxStop: 16,
  maxQueue: 64,
});

export interface CompletionParams {
  model: string;
  /** Text, or token ids (vLLM and llama.cpp accept both). */
  prompt: string | number[];
  /** With a suffix the server builds the model's fill-in-the-middle prompt around prompt and suffix. */
  suffix?: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  n: number;
  bestOf: number;
  seed?: number;
}

const bad = (param: string, message: string) => new HttpError(400, `${param}: ${message}`, param, 'invalid_value');

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalNumber(body: Record<string, unknown>, name: string, fallback: number, min: number, max: number, integer = false): number {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(name, `must be a number, got ${JSON.stringify(v)}`);
  if (integer && !Number.isInteger(v)) throw bad(name, `must be an integer, got ${v}`);
  if (v < min || v > max) throw bad(name, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function prompt(v: unknown): string | number[] {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    // A list with one prompt, or one prompt's token ids; several prompts per request are not served.
    if (v.length === 1 && typeof v[0] === 'string') return v[0];
    if (v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 0)) return v as number[];
    if (v.length > 1 && v.every((x) => typeof x === 'string'))
      throw bad('prompt', 'one prompt per request (send the others as separate requests)');
  }
  throw bad('prompt', 'must be a string, a list of one string, or a list of token ids');
}

/** The request's parameters, or an HttpError(400) naming the first bad field. */
export function parseCompletionRequest(body: unknown, limits: Limits): CompletionParams {
  if (!isObject(body)) throw new HttpError(400, 'request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '') throw bad('model', 'must be a non-empty string (see GET /v1/models)');
  if (body.prompt === undefined) throw bad('prompt', 'is required');
  const suffix = body.suffix;
  if (suffix !== undefined && suffix !== null && typeof suffix !== 'string') throw bad('suffix', 'must be a string');
  let stop: string[] = [];
  if (typeof body.stop === 'string') stop = [body.stop];
  else if (Array.isArray(body.stop)) {
    if (!body.stop.every((s) => typeof s === 'string' && s !== '')) throw bad('stop', 'must be a string or a list of non-empty strings');
    stop = body.stop as string[];
  } else if (body.stop !== undefined && body.stop !== null) throw bad('stop', 'must be a string or a list of strings');
  if (stop.length > limits.maxStop) throw bad('stop', `at most ${limits.maxStop} stop strings`);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw bad('stream', 'must be true or false');
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isObject(streamOptions)) throw bad('stream_options', 'must be an object');
  if (body.echo === true) throw bad('echo', 'is not supported');
  if (body.logprobs !== undefined && body.logprobs !== null && body.logprobs !== 0) throw bad('logprobs', 'is not supported');
  const n = optionalNumber(body, 'n', 1, 1, limits.maxChoices, true);
  const bestOf = optionalNumber(body, 'best_of', n, 1, limits.maxChoices, true);
  if (bestOf < n) throw bad('best_of', `must be at least n (${n})`);
  const seed =
    body.seed === undefined || body.seed === null ? undefined : optionalNumber(body, 'seed', 0, 0, Number.MAX_SAFE_INTEGER, true);
  return {
    model: body.model,
    prompt: prompt(body.prompt),
    suffix: typeof suffix === 'string' ? suffix : undefined,
    // OpenAI's defaults: 16 tokens, temperature 1.
    maxTokens: optionalNumber(body, 'max_tokens', 16, 1, limits.maxTokens, true),
    temperature: optionalNumber(body, 'temperature', 1, 0, 2),
    topP: optionalNumber(body, 'top_p', 1, 0, 1),
    stop,
    stream: body.stream === true,
    includeUsage: isObject(streamOptions) && streamOptions.include_usage === true,
    n,
    bestOf,
    seed,
  };
}

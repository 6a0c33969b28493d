// `codefudge serve --http`: wiring only; the server is server/http/.
import { modelDirFor } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { adapterNameFor, DEFAULT_LIMITS, startHttpServer } from '../../server/index.js';
import { deviceFlag, deviceOption, flagInt, flagPositiveInt, parseFlags, type OptionTable } from '../flags.js';

export const SERVE_HTTP = {
  http: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  model: { type: 'string' },
  'model-name': { type: 'string' },
  lora: { type: 'string', multiple: true },
  adapter: { type: 'string' },
  'api-key': { type: 'string' },
  'max-tokens-limit': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'max-queue': { type: 'string' },
  threads: { type: 'string' },
  ...deviceOption,
} satisfies OptionTable;

export const serveHttpUsage = `usage: codefudge serve --http [--host 127.0.0.1] [--port 8000] [--model DIR] [options]
  An OpenAI-compatible completion server: GET /v1/models, POST /v1/completions (prompt, suffix,
  max_tokens, temperature, top_p, stop, seed, stream, n/best_of as beams),
  POST /v1/load_lora_adapter and /v1/unload_lora_adapter ({"lora_name", "lora_path"}, as vLLM).
  --host H             address to listen on (127.0.0.1: this machine only; 0.0.0.0 for all)
  --port N             port (8000; 0 picks a free one); the URL is printed on stdout
  --model DIR          model folder or hub id (default: the embedded model)
  --model-name NAME    the base model's name in "model" fields (default: the folder's name)
  --lora NAME=DIR      serve the PEFT adapter in DIR as model NAME (repeatable)
  --adapter DIR        the same, named after the repository (<repo>/.codefudge/adapter -> repo)
  --api-key KEY        require "Authorization: Bearer KEY" (or set CODEFUDGE_API_KEY)
  --max-tokens-limit N largest max_tokens per request (${DEFAULT_LIMITS.maxTokens})
  --max-body-bytes N   largest request body (${DEFAULT_LIMITS.maxBodyBytes})
  --max-queue N        most requests waiting for the model; more get 429 (${DEFAULT_LIMITS.maxQueue})
  --threads N   --device cpu|cuda`;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function serveHttp(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, SERVE_HTTP);
  if (positionals.length) throw new UserError(`serve --http takes no arguments, got "${positionals[0]}"`);
  const port = flagInt(values, 'port', 8000);
  if (port < 0 || port > 65535) throw new UserError(`--port must be 0..65535, got ${port}`);
  const loras = (values.lora ?? []).map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UserError(`--lora must be NAME=DIR, got "${spec}"`);
    return { name: spec.slice(0, eq), dir: spec.slice(eq + 1) };
  });
  const adapter = values.adapter;
  if (adapter) loras.push({ name: adapterNameFor(adapter), dir: adapter });
  const host = values.host ?? '127.0.0.1';
  const apiKey = values['api-key'] ?? (process.env.CODEFUDGE_API_KEY || undefined);
  const log = (line: string) => process.stderr.write(`codefudge: ${line}\n`);
  const modelDir = await modelDirFor(values.model);
  let running;
  try {
    running = await startHttpServer({
      modelDir,
      modelName: values['model-name'],
      loras,
      host,
      port,
      apiKey,
      limits: {
        maxTokens: flagPositiveInt(values, 'max-tokens-limit', DEFAULT_LIMITS.maxTokens),
        maxBodyBytes: flagPositiveInt(values, 'max-body-bytes', DEFAULT_LIMITS.maxBodyBytes),
        maxQueue: flagPositiveInt(values, 'max-queue', DEFAULT_LIMITS.maxQueue),
      },
      threads: flagPositiveInt(values, 'threads'),
      device: deviceFlag(values),
      log,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new UserError(`port ${port} on ${host} is in use (pick another with --port, or 0 for a free one)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`cannot listen on ${host}: ${code}`);
    if (e instanceof Error && !(e instanceof UserError) && /adapter|lora/i.test(e.message)) throw new UserError(e.message);
    throw e;
  }
  if (!LOOPBACK.has(host) && !apiKey)
    log(`warning: listening on ${host} without --api-key: anyone who can reach this port can use the model`);
  for (const l of loras) log(`adapter ${l.name} <- ${l.dir}`);
  process.stdout.write(`listening on ${running.url}\n`);
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise<never>(() => undefined);
}

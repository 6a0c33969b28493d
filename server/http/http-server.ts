// `codefudge serve --http`: codefudge as an OpenAI-compatible completion server on node:http, the
// routes vLLM serves for completions and LoRA adapters: GET /v1/models, POST /v1/completions,
// POST /v1/load_lora_adapter, POST /v1/unload_lora_adapter (and GET /health).
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { Completer, type Device } from '../../engine/index.js';
import { messageOf } from '../../common/index.js';
import { AdapterRegistry } from './adapter-registry.js';
import { DEFAULT_LIMITS, parseCompletionRequest, type Limits } from './completion-request.js';
import { completions, type CompletionContext } from './completions-route.js';
import { FairQueue } from './fair-queue.js';
import { errorBody, HttpError } from './http-errors.js';
import { readJsonBody } from './read-json.js';

export interface HttpServerOptions {
  /** A loaded model folder. */
  modelDir: string;
  /** The base model's name in `model` fields (default: the folder's name). */
  modelName?: string;
  /** Adapters served from the start, by name. */
  loras?: { name: string; dir: string }[];
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Requests must send `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  limits?: Partial<Limits>;
  threads?: number;
  device?: Device;
  log?: (line: string) => void;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  host: string;
  server: Server;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Loads the model and starts listening; resolves once the port is bound. */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const log = opts.log ?? (() => undefined);
  const completer = await Completer.load(opts.modelDir, { threads: opts.threads, device: opts.device });
  const baseName = opts.modelName ?? basename(opts.modelDir);
  const created = Math.floor(Date.now() / 1000);
  const adapters = new AdapterRegistry(completer.folder.config, baseName);
  for (const l of opts.loras ?? []) {
    try {
      adapters.load(l.name, l.dir);
    } catch (e) {
      await completer.release();
      throw e instanceof HttpError ? new Error(e.message) : e;
    }
  }
  const queue = new FairQueue(limits.maxQueue);
  const ctx: CompletionContext = {
    completer,
    baseName,
    adapters,
    queue,
    useAdapter: async (dir) => {
      if (completer.adapter !== dir) await completer.setAdapter(dir);
    },
  };
  let requests = 0;

  async function route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/health' && method === 'GET') return sendText(res, 200, '');
    if (opts.apiKey) {
      const auth = req.headers.authorization ?? '';
      const m = /^Bearer (.+)$/i.exec(auth);
      if (!m || !sameSecret(m[1].trim(), opts.apiKey)) {
        throw new HttpError(
          401,
          m ? 'Incorrect API key provided.' : 'Missing API key: send "Authorization: Bearer <key>".',
          null,
          'invalid_api_key',
        );
      }
    }
    const expect = (wanted: string) => {
      if (method !== wanted) throw new HttpError(405, `${path} takes ${wanted}, not ${method}`, null, 'method_not_allowed');
    };
    switch (path) {
      case '/v1/models': {
        expect('GET');
        const context = completer.folder.config.maxPositionEmbeddings;
        return sendJson(res, 200, {
          object: 'list',
          data: [
            { id: baseName, object: 'model', created, owned_by: 'codefudge', root: opts.modelDir, parent: null, max_model_len: context },
            ...adapters.list().map((a) => ({
              id: a.name,
              object: 'model',
              created: a.created,
              owned_by: 'codefudge',
              root: a.dir,
              parent: baseName,
              max_model_len: context,
            })),
          ],
        });
      }
      case '/v1/completions': {
        expect('POST');
        const params = parseCompletionRequest(await readJsonBody(req, limits.maxBodyBytes), limits);
        // Clients are told apart by address and user agent: editors on one machine share the address, not their agent.
        const client = `${req.socket.remoteAddress}|${req.headers['user-agent'] ?? ''}`;
        return completions(ctx, params, client, res, signal);
      }
      case '/v1/load_lora_adapter': {
        expect('POST');
        const body = (await readJsonBody(req, limits.maxBodyBytes)) as Record<string, unknown> | null;
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new HttpError(400, 'request body must be a JSON object');
        const a = adapters.load(body.lora_name, body.lora_path);
        log(`adapter ${a.name} loaded from ${a.dir}`);
        return sendText(res, 200, `Success: LoRA adapter '${a.name}' added successfully.`);
      }
      case '/v1/unload_lora_adapter': {
        expect('POST');
        const body = (await readJsonBody(req, limits.maxBodyBytes)) as Record<string, unknown> | null;
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new HttpError(400, 'request body must be a JSON object');
        adapters.unload(body.lora_name);
        log(`adapter ${String(body.lora_name)} unloaded`);
        return sendText(res, 200, `Success: LoRA adapter '${String(body.lora_name)}' removed successfully.`);
      }
      default:
        throw new HttpError(
          404,
          `no route ${method} ${path} (routes: GET /v1/models, POST /v1/completions, POST /v1/load_lora_adapter, POST /v1/unload_lora_adapter)`,
          null,
          'not_found',
        );
    }
  }

  const server = createServer((req, res) => {
    requests++;
    const abort = new AbortController();
    // The client went away before the answer was complete: stop generating for it.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new Error('client closed the connection'));
    });
    route(req, res, abort.signal).catch((e: unknown) => {
      if (abort.signal.aborted) return;
      const err = e instanceof HttpError ? e : new HttpError(500, `internal error: ${messageOf(e)}`);
      if (err.status >= 500) log(`${req.method} ${req.url}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (res.headersSent) {
        // Mid-stream: the error goes as an event, as vLLM does, then the stream ends.
        res.end(`data: ${JSON.stringify(errorBody(err))}\n\ndata: [DONE]\n\n`);
        return;
      }
      // A body refused unread would otherwise be left in the connection: close it after the answer.
      if (err.status === 413) res.setHeader('connection', 'close');
      sendJson(res, err.status, errorBody(err));
    });
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    host,
    server,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await completer.release();
      log(`served ${requests} requests`);
    },
  };
}

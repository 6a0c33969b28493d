// POST /v1/completions: one prompt, answered whole or streamed as server-sent events in OpenAI's
// chunk format; n/best_of > 1 run beam search and return the n best beams as the choices.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Completer, FimResult } from '../../engine/index.js';
import { finishReasonOf } from '../backend/local-backend.js';
import { DeltaStream } from '../backend/stream-text.js';
import type { AdapterRegistry } from './adapter-registry.js';
import type { CompletionParams } from './completion-request.js';
import type { FairQueue } from './fair-queue.js';
import { HttpError } from './http-errors.js';

export interface CompletionContext {
  completer: Completer;
  baseName: string;
  adapters: AdapterRegistry;
  queue: FairQueue;
  /** Applies the adapter a request names (undefined: the base model); runs inside the request's queue turn. */
  useAdapter: (dir: string | undefined) => Promise<void>;
}

interface Choice {
  text: string;
  index: number;
  logprobs: null;
  finish_reason: string | null;
}

/** The prompt's token ids: text as the server's tokenizer reads it (BOS added where the template wants it). */
function promptIds(c: Completer, p: CompletionParams): number[] {
  if (typeof p.prompt !== 'string') {
    const vocab = c.folder.config.vocabSize;
    const badId = p.prompt.find((id) => id >= vocab);
    if (badId !== undefined) throw new HttpError(400, `prompt: token id ${badId} is outside the vocabulary (${vocab} tokens)`, 'prompt');
    return p.prompt;
  }
  const text = p.suffix !== undefined ? c.template.render(p.prompt, p.suffix, c.preferredFimMode) : p.prompt;
  return c.withBos(c.tokenizer.encode(text));
}

/**
 * Answers one completion request. `signal` aborts when the client goes away; generation then
 * stops at the next token and nothing more is written.
 */
export async function completions(
  ctx: CompletionContext,
  p: CompletionParams,
  client: string,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const { completer } = ctx;
  let adapterDir: string | undefined;
  if (p.model !== ctx.baseName) {
    const adapter = ctx.adapters.get(p.model);
    if (!adapter) throw new HttpError(404, `The model \`${p.model}\` does not exist.`, 'model', 'model_not_found');
    adapterDir = adapter.dir;
  }
  const ids = promptIds(completer, p);
  const context = completer.folder.config.maxPositionEmbeddings;
  if (ids.length + p.maxTokens > context) {
    throw new HttpError(
      400,
      `This model's maximum context length is ${context} tokens. However, you requested ${ids.length + p.maxTokens} tokens (${ids.length} in your prompt; ${p.maxTokens} for the completion). Please reduce your prompt; or completion length.`,
      'prompt',
      'context_length_exceeded',
    );
  }
  const id = `cmpl-${randomUUID().replace(/-/g, '')}`;
  const created = Math.floor(Date.now() / 1000);
  const beams = Math.max(p.n, p.bestOf);
  const chunk = (choices: Choice[], usage?: object) =>
    `data: ${JSON.stringify({ id, object: 'text_completion', created, model: p.model, choices, ...(usage ? { usage } : {}) })}\n\n`;

  const result = await ctx.queue.run(client, signal, async (): Promise<FimResult | undefined> => {
    if (signal.aborted) return undefined;
    await ctx.useAdapter(adapterDir);
    if (p.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    }
    // Beam search has no text until it ends; greedy and sampled decoding stream token by token.
    const stream =
      p.stream && beams === 1
        ? new DeltaStream(p.stop, (delta) => {
            if (!signal.aborted) res.write(chunk([{ text: delta, index: 0, logprobs: null, finish_reason: null }]));
          })
        : undefined;
    const out = await completer.completeIds(ids, {
      maxNewTokens: p.maxTokens,
      temperature: p.temperature,
      topP: p.topP < 1 ? p.topP : undefined,
      seed: p.seed,
      numBeams: beams,
      stopStrings: p.stop,
      signal,
      onText: stream && ((text) => stream.update(text)),
    });
    stream?.finish(out.text);
    return out;
  });
  if (!result || signal.aborted) return;

  const candidates = beams > 1 && result.candidates ? result.candidates.slice(0, p.n) : [result];
  const completionTokens = candidates.reduce((sum, c) => sum + c.ids.length, 0);
  const usage = { prompt_tokens: ids.length, completion_tokens: completionTokens, total_tokens: ids.length + completionTokens };
  if (p.stream) {
    const last = candidates.map((c, index) => ({
      text: beams > 1 ? c.text : '',
      index,
      logprobs: null,
      finish_reason: finishReasonOf(c.reason),
    }));
    res.write(chunk(last));
    if (p.includeUsage)
      res.write(`data: ${JSON.stringify({ id, object: 'text_completion', created, model: p.model, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
    return;
  }
  const body = JSON.stringify({
    id,
    object: 'text_completion',
    created,
    model: p.model,
    choices: candidates.map((c, index) => ({ text: c.text, index, logprobs: null, finish_reason: finishReasonOf(c.reason) })),
    usage,
  });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
}

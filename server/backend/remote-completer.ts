// Fill-in-the-middle through a remote backend, looking to its callers like the in-process
// Completer: the prompt is built here with the model's FIM template and token budgets (the
// tokenizer comes from a local model folder), the backend continues it, and the stops the engine
// applies while generating (stop strings, stopAt: end of line or block, loops) are applied to the
// streamed text, closing the request as soon as one fires so the server stops generating too.
import {
  cutAtStop,
  fimPromptText,
  loadTokenizer,
  readModelConfig,
  trailingCyclePeriod,
  type FimMode,
  type FimRequest,
  type FimResult,
  type FimTemplate,
  type ModelConfig,
  type StopReason,
  type Tokenizer,
  fimTemplateFor,
} from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import type { CompletionBackend } from './completion-backend.js';

/** As the engine's stopOnLoop: one n-gram of up to 16 tokens, three times back to back. */
const LOOP_MAX_PERIOD = 16;
const LOOP_REPEATS = 3;

/**
 * Where the text's tokens first end in a loop, looking only at prefixes longer than `from` tokens:
 * `cut` is the text with the copies after the first dropped; `tokens` how many the text has, so
 * the next call (more streamed text) starts there without tokenizing again to find out.
 */
export function cutAtLoop(tok: Tokenizer, text: string, from = 0): { cut?: string; tokens: number } {
  const ids = tok.encode(text);
  for (let n = Math.max(from, 1); n <= ids.length; n++) {
    const period = trailingCyclePeriod(ids.slice(0, n), LOOP_MAX_PERIOD, LOOP_REPEATS);
    if (period) return { cut: tok.decode(ids.slice(0, n - period * (LOOP_REPEATS - 1))), tokens: ids.length };
  }
  return { tokens: ids.length };
}

/**
 * Loop stop on the streamed pieces: servers stream one piece per generated token (codefudge's
 * own, vLLM, llama-server), so a cycle of pieces is the engine's cycle of tokens, cut the same way.
 */
export class PieceLoops {
  private readonly ids = new Map<string, number>();
  private readonly seq: number[] = [];
  private readonly pieces: string[] = [];

  /** Adds a piece; the text without the repeated copies once the pieces end in a loop. */
  add(piece: string): string | undefined {
    let id = this.ids.get(piece);
    if (id === undefined) this.ids.set(piece, (id = this.ids.size));
    this.seq.push(id);
    this.pieces.push(piece);
    const period = trailingCyclePeriod(this.seq, LOOP_MAX_PERIOD, LOOP_REPEATS);
    return period ? this.pieces.slice(0, this.pieces.length - period * (LOOP_REPEATS - 1)).join('') : undefined;
  }
}

export class RemoteCompleter {
  private constructor(
    readonly backend: CompletionBackend,
    readonly folder: { dir: string; config: ModelConfig },
    readonly tokenizer: Tokenizer,
    readonly template: FimTemplate,
  ) {}

  /** `tokenizerDir`: a local model folder with the served model's tokenizer.json and config.json (no weights needed). */
  static async load(backend: CompletionBackend, tokenizerDir: string): Promise<RemoteCompleter> {
    const config = readModelConfig(tokenizerDir);
    const tokenizer = await loadTokenizer(tokenizerDir);
    const template = fimTemplateFor(tokenizerDir, tokenizer, config);
    return new RemoteCompleter(backend, { dir: tokenizerDir, config }, tokenizer, template);
  }

  /** As Completer.preferredFimMode: `codefudge.fim_mode` in config.json where the template has it. */
  get preferredFimMode(): FimMode {
    const wanted = (this.folder.config.raw.codefudge as { fim_mode?: unknown } | undefined)?.fim_mode;
    return (wanted === 'psm' || wanted === 'spm') && this.template.modes.includes(wanted) ? wanted : 'psm';
  }

  withBos(ids: number[]): number[] {
    const bos = this.folder.config.bosTokenId;
    return this.template.addBos && bos !== null && ids[0] !== bos ? [bos, ...ids] : ids;
  }

  async complete(req: FimRequest): Promise<FimResult> {
    const t0 = performance.now();
    if ((req.numBeams ?? 1) > 1) throw new UserError('beam search is not available through a remote backend');
    const prompt = fimPromptText(this, req.prefix, req.suffix, {
      maxPrefixTokens: req.maxPrefixTokens,
      maxSuffixTokens: req.maxSuffixTokens,
      mode: req.fimMode ?? this.preferredFimMode,
      reserve: req.maxNewTokens,
      cut: req.cut ?? true,
    });
    // Ours, so a stop found in the streamed text closes the request without looking like the caller's cancel.
    const local = new AbortController();
    const onCancel = () => local.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onCancel, { once: true });
    let text = '';
    let cut: { text: string; reason: StopReason } | undefined;
    let loopChecked = 0;
    const pieces = new PieceLoops();
    const onText = (delta: string) => {
      if (cut) return;
      text += delta;
      const stopped = cutAtStop(text, req);
      if (stopped !== undefined) cut = { text: stopped, reason: 'stop-string' };
      else if (req.stopOnLoop) {
        // By pieces first (exact where each is a token), then by re-tokenizing (servers that send several tokens at once).
        let loop = pieces.add(delta);
        if (loop === undefined) ({ cut: loop, tokens: loopChecked } = cutAtLoop(this.tokenizer, text, loopChecked));
        if (loop !== undefined) cut = { text: loop, reason: 'loop' };
      }
      if (cut) local.abort();
    };
    try {
      let out: { text: string; finishReason: string };
      try {
        out = await this.backend.complete({
          prompt,
          maxTokens: req.maxNewTokens,
          temperature: req.temperature ?? 0,
          topP: req.topP,
          // The template's end tokens too: a server that decodes them as text must still end there.
          stop: [...(req.stopStrings ?? []), ...this.template.stopTokens],
          signal: local.signal,
          onText,
        });
      } catch (e) {
        // A backend may reject when we close its stream on purpose (a stop fired, or the caller cancelled).
        if (!cut && !req.signal?.aborted) throw e;
        out = { text, finishReason: 'abort' };
      }
      if (!cut && out.text !== text) {
        // A backend that did not stream: apply the stops to the whole text now.
        text = '';
        onText(out.text);
      }
      const reason: StopReason =
        cut?.reason ??
        (req.signal?.aborted
          ? 'aborted'
          : out.finishReason === 'length'
            ? 'max-tokens'
            : out.finishReason === 'abort'
              ? 'aborted'
              : 'stop-token');
      const final = cut?.text ?? text;
      return {
        ids: this.tokenizer.encode(final),
        text: final,
        reason,
        logprob: 0,
        reusedTokens: 0,
        promptTokens: this.withBos(this.tokenizer.encode(prompt)).length,
        milliseconds: performance.now() - t0,
      };
    } finally {
      req.signal?.removeEventListener('abort', onCancel);
    }
  }

  async release(): Promise<void> {
    // Nothing held: the model lives on the server.
  }
}

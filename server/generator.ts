// The generation step of the completion service, behind one seam: the local engine (a Completer,
// with its KV-cache reuse of the previous prompt) or a remote OpenAI-compatible backend
// (remote-generator.ts). The service cuts the window and post-processes the text the same way
// for both; a generator only turns a window into the model's raw middle.
import type { Completer, FimMode, GenerateOptions } from '../engine/index.js';
import type { FimOrder } from './settings.js';
import { neutralizeSpecialTokens } from './special-tokens.js';
import { memoTokenCounter, type TokenCounter } from './token-counter.js';

export interface GenerationRequest {
  /** The prompt window, already cut to the budgets: a generator must not cut it again. */
  prefix: string;
  suffix: string;
  maxTokens: number;
  temperature: number;
  topP?: number;
  /** Where the text ends (end of line or block): generation stops as soon as this returns a length. */
  stopAt: (text: string) => number | undefined;
  stopOnLoop: boolean;
  fimMode: FimOrder | 'auto';
  /** false re-runs the whole prompt (local engine only; benchmarks compare both). */
  reuseCache: boolean;
  /** Checked before generating and between tokens: an aborted request stops with reason 'aborted'. */
  signal: AbortSignal;
  /** Decoding options only the local engine has (the CLI's --top-k, --beams, --seed, --repetition-penalty). */
  decoding?: Partial<GenerateOptions>;
}

export interface Generation {
  /** The model's middle, cut where `stopAt` said, before any post-processing. */
  text: string;
  /** Why it ended: 'stop-token' | 'stop-string' | 'max-tokens' | 'loop' | 'aborted' (or a backend's finish reason). */
  reason: string;
  promptTokens?: number;
  reusedTokens?: number;
  generatedTokens?: number;
}

export interface Generator {
  /** What the prompt window is measured with (the model's tokenizer, or an estimate). */
  countTokens: TokenCounter;
  /** Positions the model attends to: window, template and generated tokens must fit. */
  contextTokens: number;
  generate(req: GenerationRequest): Promise<Generation>;
}

/** The prompt order to use: the setting, `auto` resolved by the model, psm where the template lacks spm. */
export function resolveFimMode(
  asked: FimOrder | 'auto',
  preferred: FimMode,
  modes: readonly FimMode[],
): { mode: FimMode; fellBack: boolean } {
  const wanted = asked === 'auto' ? preferred : asked;
  return modes.includes(wanted) ? { mode: wanted, fellBack: false } : { mode: 'psm', fellBack: true };
}

/** The local engine: the Completer keeps the previous prompt's KV cache, so typing forward reuses it. */
/**
 * What a generator needs of a model: the engine's Completer, or the remote backend's RemoteCompleter
 * (prompt built here, tokens made by an OpenAI-compatible server), so both get the same window and clean-up.
 */
export interface FimModel {
  tokenizer: Completer['tokenizer'];
  folder: { config: Completer['folder']['config'] };
  template: Completer['template'];
  preferredFimMode: Completer['preferredFimMode'];
  complete: Completer['complete'];
}

export function localGenerator(completer: FimModel, warn: (line: string) => void = () => undefined): Generator {
  let warned = false;
  return {
    countTokens: memoTokenCounter((t) => completer.tokenizer.encode(t)),
    contextTokens: completer.folder.config.maxPositionEmbeddings,
    async generate(req) {
      // Nothing to run for a request already cancelled (the client gave up before its turn came).
      if (req.signal.aborted) return { text: '', reason: 'aborted' };
      const { mode, fellBack } = resolveFimMode(req.fimMode, completer.preferredFimMode, completer.template.modes);
      if (fellBack && !warned) {
        warned = true;
        warn(
          `fimMode "${req.fimMode}": the ${completer.template.family} template has only ${completer.template.modes.join(', ')}; using psm`,
        );
      }
      const special = completer.tokenizer.specialTokens;
      const r = await completer.complete({
        ...req.decoding,
        prefix: neutralizeSpecialTokens(req.prefix, special),
        suffix: neutralizeSpecialTokens(req.suffix, special),
        cut: false,
        maxNewTokens: req.maxTokens,
        temperature: req.temperature,
        topP: req.topP ?? req.decoding?.topP,
        stopAt: req.stopAt,
        stopOnLoop: req.stopOnLoop,
        signal: req.signal,
        reuseCache: req.reuseCache,
        fimMode: mode,
      });
      return { text: r.text, reason: r.reason, promptTokens: r.promptTokens, reusedTokens: r.reusedTokens, generatedTokens: r.ids.length };
    },
  };
}

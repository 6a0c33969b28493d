// One completion service for the LSP server and `codefudge complete`: from a document and a cursor
// to the text to insert. It cuts the prompt window once (to budgets that fit the model), runs the
// generation step (local engine or remote backend, generator.ts), and post-processes the middle;
// so the editor and the CLI give the same text at the same position. Scheduling (debounce,
// superseding, one generation at a time), caching and the protocol stay with the server.
import type { GenerateOptions } from '../engine/index.js';
import { fitBudget, promptWindow, type PromptWindow, type TextView, type WindowBudget } from './context-window.js';
import type { Generator } from './generator.js';
import { postprocess, stopAtFor, type CompletionContext } from './postprocess.js';
import type { Settings } from './settings.js';

export interface CompletionInput {
  /** The document: its text and line table. */
  view: TextView;
  /** The cursor: its offset in `view.text` and its (0-based) line. */
  offset: number;
  line: number;
  languageId: string;
  signal?: AbortSignal;
  /** Decoding options beyond the settings (the CLI's flags; local engine only). */
  decoding?: Partial<GenerateOptions>;
}

export interface Completion {
  /** The text to insert; '' when nothing is worth inserting. */
  text: string;
  /** The model's middle before post-processing. */
  raw: string;
  /** How generation ended; 'aborted' when the request's signal stopped it (then `text` is ''). */
  reason: string;
  window: PromptWindow;
  promptTokens?: number;
  reusedTokens?: number;
  generatedTokens?: number;
  milliseconds: number;
}

export interface CompletionServiceOptions {
  /** The settings now (they change while the server runs). */
  settings: () => Settings;
  /** The generation step; undefined while there is no model (it failed to load). */
  generator: () => Promise<Generator | undefined>;
}

/** The window budgets the settings ask for: single-line mode keeps less of the suffix (settings.ts says why). */
export function windowBudget(settings: Settings): WindowBudget {
  const single = settings.mode === 'single-line';
  return {
    maxPrefixTokens: settings.maxPrefixTokens,
    maxSuffixTokens: single ? Math.min(settings.maxSuffixTokens, settings.singleLineSuffixTokens) : settings.maxSuffixTokens,
  };
}

export class CompletionService {
  constructor(private readonly opts: CompletionServiceOptions) {}

  /** The completion at the cursor; undefined when there is no model to complete with. */
  async complete(input: CompletionInput): Promise<Completion | undefined> {
    const t0 = performance.now();
    const generator = await this.opts.generator();
    if (!generator) return undefined;
    const settings = this.opts.settings();
    const signal = input.signal ?? new AbortController().signal;
    // The window is cut here, once: the budgets leave room for the template and the generated tokens.
    const budget = fitBudget(windowBudget(settings), generator.contextTokens, settings.maxTokens);
    const window = promptWindow(input.view, { offset: input.offset, line: input.line }, budget, generator.countTokens);
    const ctx: CompletionContext = { prefix: window.prefix, suffix: window.suffix, mode: settings.mode, languageId: input.languageId };
    const aborted = (): Completion => ({ text: '', raw: '', reason: 'aborted', window, milliseconds: performance.now() - t0 });
    if (signal.aborted) return aborted();
    const g = await generator.generate({
      prefix: window.prefix,
      suffix: window.suffix,
      maxTokens: settings.maxTokens,
      temperature: settings.temperature,
      stopAt: stopAtFor(ctx),
      stopOnLoop: settings.stopOnLoop,
      fimMode: settings.fimMode,
      reuseCache: settings.reusePrefixCache,
      signal,
      decoding: input.decoding,
    });
    if (g.reason === 'aborted' || signal.aborted) return { ...aborted(), promptTokens: g.promptTokens, reusedTokens: g.reusedTokens };
    return {
      text: postprocess(g.text, ctx),
      raw: g.text,
      reason: g.reason,
      window,
      promptTokens: g.promptTokens,
      reusedTokens: g.reusedTokens,
      generatedTokens: g.generatedTokens,
      milliseconds: performance.now() - t0,
    };
  }
}

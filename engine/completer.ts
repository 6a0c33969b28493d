import type { CausalLM, KvCache } from './causal-lm.js';
import { UserError } from '../common/index.js';
import { detectFimTemplate, type FimMode, type FimTemplate } from './fim.js';
import { generate, type GenerateOptions, type GenerateResult } from './generate/generate.js';
import { loadCausalLM } from './load.js';
import { adapterFeeds, attachAdapter, loadAdaptedCausalLM, noAdapterFeeds } from './lora/adapter-inference.js';
import { layoutModulesKey, type LoraLayout } from './lora/lora-layout.js';
import { readPeftAdapter } from './lora/peft.js';
import { openModelFolder, type ModelFolder } from './model-folder.js';
import type { SessionOptions } from './session.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';

export interface FimRequest extends Omit<GenerateOptions, 'stopTokens'> {
  prefix: string;
  suffix: string;
  /** Token budgets around the cursor: the prefix is cut from the left, the suffix from the right, at line starts. */
  maxPrefixTokens?: number;
  maxSuffixTokens?: number;
  /** false runs the whole prompt even when it shares a prefix with the previous one (benchmarks compare both). */
  reuseCache?: boolean;
  /**
   * Prompt order, one of `template.modes` (default psm). With spm the suffix comes first, so a user
   * typing forward changes only the prompt's end and nearly all of it is reused from the cache.
   */
  fimMode?: FimMode;
  /**
   * false: `prefix` and `suffix` are already the window to use (the LSP server cuts its own, with
   * budgets that fit the model), so they are not cut again here; the budgets are then ignored.
   */
  cut?: boolean;
}

export interface FimResult extends Omit<GenerateResult, 'cache' | 'cacheIds'> {
  promptTokens: number;
  milliseconds: number;
}

/** Keeps the last `budget` tokens' worth of whole lines of `text` (its first ones when `keepEnd` is false). */
function clipLines(tok: Tokenizer, text: string, budget: number, keepEnd: boolean): string {
  // A byte-level token covers at least one UTF-8 byte, so text this short needs no tokenizing (this runs per request).
  if (Buffer.byteLength(text) <= budget || tok.encode(text).length <= budget) return text;
  const lines = text.split(/(?<=\n)/);
  const kept: string[] = [];
  let used = 0;
  for (const line of keepEnd ? lines.reverse() : lines) {
    used += tok.encode(line).length;
    if (used > budget) break;
    kept.push(line);
  }
  return (keepEnd ? kept.reverse() : kept).join('');
}

/** Positions a FIM prompt keeps for the template's own tokens (and BOS). */
const TEMPLATE_ROOM = 8;
/** The shortest context that holds a FIM prompt with some code in it and room to complete. */
export const MIN_FIM_POSITIONS = 2 * TEMPLATE_ROOM;

/**
 * The FIM template of the model in `dir`, refused in one line when its tokenizer has no FIM tokens
 * or its context is too short for a prompt with code and a completion (it could only complete nothing).
 */
export function fimTemplateFor(dir: string, tokenizer: Tokenizer, config: { maxPositionEmbeddings: number }): FimTemplate {
  const template = detectFimTemplate(tokenizer);
  if (!template) throw new UserError(`model "${dir}" has no fill-in-the-middle tokens in its tokenizer (e.g. <fim_prefix>)`);
  if (config.maxPositionEmbeddings < MIN_FIM_POSITIONS) {
    throw new UserError(
      `model "${dir}": max_position_embeddings ${config.maxPositionEmbeddings} is too small; a fill-in-the-middle prompt needs at least ${MIN_FIM_POSITIONS} positions`,
    );
  }
  return template;
}

/** What building a FIM prompt needs of a model: its tokenizer, template and context length. */
export interface FimPromptModel {
  tokenizer: Tokenizer;
  template: FimTemplate;
  folder: { config: { maxPositionEmbeddings: number } };
}

export interface FimPromptBudget {
  maxPrefixTokens?: number;
  maxSuffixTokens?: number;
  mode?: FimMode;
  /** Positions kept free for the generated tokens. */
  reserve?: number;
  /** false: the caller has cut the window already (the completion service); the texts go in whole. */
  cut?: boolean;
}

/**
 * The FIM prompt as text (no BOS), its prefix and suffix cut to their budgets; the budgets shrink
 * so prompt plus `reserve` generated tokens stay within the positions the model was trained on.
 * Shared by the in-process completer and the remote backends, which send this text.
 */
export function fimPromptText(model: FimPromptModel, prefix: string, suffix: string, budget: FimPromptBudget = {}): string {
  const { maxPrefixTokens = 1024, maxSuffixTokens = 256, mode = 'psm', reserve = 0, cut = true } = budget;
  if (!cut) return model.template.render(prefix, suffix, mode);
  const room = model.folder.config.maxPositionEmbeddings - reserve - TEMPLATE_ROOM;
  const suffixBudget = Math.max(0, Math.min(maxSuffixTokens, Math.floor(room / 4)));
  const prefixBudget = Math.max(0, Math.min(maxPrefixTokens, room - suffixBudget));
  const p = clipLines(model.tokenizer, prefix, prefixBudget, true);
  const s = clipLines(model.tokenizer, suffix, suffixBudget, false);
  return model.template.render(p, s, mode);
}

/**
 * A model folder ready for fill-in-the-middle: tokenizer, FIM template and compiled graph.
 * It remembers the last prompt's KV cache, so a request whose prompt shares a prefix with the
 * previous one (the user typed forward) only runs the new tokens.
 */
export class Completer {
  private last?: { ids: number[]; cache: KvCache };
  /** The LoRA modules the compiled graph takes as inputs (none for a plain base-model graph). */
  private layout?: LoraLayout;
  private adapterDir?: string;

  private constructor(
    readonly folder: ModelFolder,
    readonly tokenizer: Tokenizer,
    readonly template: FimTemplate,
    private lm: CausalLM,
    private readonly session: SessionOptions,
  ) {}

  /** `opts.quant`: int4/int8 weights, or none; undefined: the default for the model's size (quant/quant-mode.ts). */
  static async load(dir: string, opts: SessionOptions & { adapter?: string } = {}): Promise<Completer> {
    const folder = openModelFolder(dir);
    const tokenizer = await loadTokenizer(dir);
    const template = fimTemplateFor(dir, tokenizer, folder.config);
    const { adapter, ...session } = opts;
    const c = new Completer(folder, tokenizer, template, await loadCausalLM(folder, { ...session, logits: 'last' }), session);
    if (adapter) await c.setAdapter(adapter);
    return c;
  }

  /**
   * The prompt order the model completes best with: `codefudge.fim_mode` in its config.json when the
   * template supports it (our pretraining's SPM rows make SPM far better for the embedded model), else PSM.
   */
  get preferredFimMode(): FimMode {
    const wanted = (this.folder.config.raw.codefudge as { fim_mode?: unknown } | undefined)?.fim_mode;
    return (wanted === 'psm' || wanted === 'spm') && this.template.modes.includes(wanted) ? wanted : 'psm';
  }

  get model(): CausalLM {
    return this.lm;
  }

  get adapter(): string | undefined {
    return this.adapterDir;
  }

  /**
   * Applies the PEFT adapter in `dir` (or none). Adapters are graph inputs, so switching between
   * adapters on the same modules only swaps feeds; the first adapter (or one on other modules)
   * compiles the adapter-input graph once.
   */
  async setAdapter(dir: string | undefined): Promise<void> {
    this.last = undefined;
    this.adapterDir = dir;
    if (dir === undefined) {
      if (this.layout) this.lm.fixedFeeds = noAdapterFeeds(this.layout);
      return;
    }
    const adapter = readPeftAdapter(dir);
    const attached = attachAdapter(this.folder.config, adapter);
    const sameModules = (a: LoraLayout, b: LoraLayout) => JSON.stringify(layoutModulesKey(a)) === JSON.stringify(layoutModulesKey(b));
    if (!this.layout || !sameModules(this.layout, attached.layout)) {
      const adapted = await loadAdaptedCausalLM(this.folder, adapter, { ...this.session, logits: 'last' });
      await this.lm.release();
      this.lm = adapted.lm;
      this.layout = attached.layout;
    }
    this.lm.fixedFeeds = adapterFeeds(attached);
  }

  /** Token ids that end a middle: end-of-text and the template's own stop tokens. */
  stopTokenIds(): number[] {
    const ids = new Set(this.tokenizer.eosTokenIds);
    for (const t of this.template.stopTokens) {
      const id = this.tokenizer.tokenToId(t);
      if (id !== undefined) ids.add(id);
    }
    return [...ids];
  }

  /**
   * The FIM prompt, its prefix and suffix cut to their budgets; the budgets shrink so prompt plus
   * `reserve` generated tokens stay within the positions the model was trained on.
   */
  promptIds(
    prefix: string,
    suffix: string,
    maxPrefixTokens = 1024,
    maxSuffixTokens = 256,
    mode: FimMode = this.preferredFimMode,
    reserve = 0,
    cut = true,
  ): number[] {
    const text = fimPromptText(this, prefix, suffix, { maxPrefixTokens, maxSuffixTokens, mode, reserve, cut });
    return this.withBos(this.tokenizer.encode(text));
  }

  /** `ids` with the BOS token in front where the template wants one (what an OpenAI-style server adds itself). */
  withBos(ids: number[]): number[] {
    const bos = this.folder.config.bosTokenId;
    return this.template.addBos && bos !== null && ids[0] !== bos ? [bos, ...ids] : ids;
  }

  async complete(req: FimRequest): Promise<FimResult> {
    const prompt = this.promptIds(
      req.prefix,
      req.suffix,
      req.maxPrefixTokens,
      req.maxSuffixTokens,
      req.fimMode ?? this.preferredFimMode,
      req.maxNewTokens,
      req.cut ?? true,
    );
    return this.completeIds(prompt, req);
  }

  /**
   * Generates after a prompt already tokenized (the HTTP server's `prompt`), with the same stop
   * tokens and KV-cache reuse as {@link complete}.
   */
  async completeIds(prompt: number[], req: Omit<GenerateOptions, 'stopTokens'> & { reuseCache?: boolean }): Promise<FimResult> {
    const t0 = performance.now();
    const single = (req.numBeams ?? 1) <= 1;
    const reuse = req.reuseCache === false || !single ? undefined : this.last;
    // The cache is handed over: this generation may overwrite its rows past the shared prefix, so
    // neither a concurrent request nor the next one after a failure may reuse it.
    if (reuse) this.last = undefined;
    const out = await generate(
      this.lm,
      this.tokenizer,
      prompt,
      { ...req, stopTokens: this.stopTokenIds() },
      reuse && { ...reuse, owned: true },
    );
    if (single) this.last = { ids: out.cacheIds, cache: out.cache };
    const { cache: _c, cacheIds: _i, ...rest } = out;
    return { ...rest, promptTokens: prompt.length, milliseconds: performance.now() - t0 };
  }

  async release(): Promise<void> {
    this.last = undefined;
    await this.lm.release();
  }
}

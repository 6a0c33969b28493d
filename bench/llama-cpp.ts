// llama.cpp, through node-llama-cpp (an optional dependency whose npm packages carry prebuilt CPU
// binaries), as the baseline beside our engine: the same GGUF file, the same prompt lengths, greedy
// decoding. node-llama-cpp is imported lazily so everything else works when it is not installed.

/** The slice of node-llama-cpp's API used here (kept structural so the optional package need not type-check). */
interface NlcSequence {
  evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>;
  evaluate(tokens: number[], o: { temperature: number; yieldEogToken: boolean }): AsyncGenerator<number, void, void | number | number[]>;
  clearHistory(): Promise<void>;
}
interface NlcContext {
  getSequence(): NlcSequence;
  dispose(): Promise<void>;
}
interface NlcModel {
  createContext(o: {
    contextSize: number;
    batchSize: number;
    threads: number;
    sequences: number;
    lora?: { adapters: { filePath: string; scale?: number }[] };
  }): Promise<NlcContext>;
  dispose(): Promise<void>;
}
interface Nlc {
  loadModel(o: { modelPath: string; gpuLayers: number }): Promise<NlcModel>;
  dispose(): Promise<void>;
}
interface NlcModule {
  getLlama(o: Record<string, unknown>): Promise<Nlc>;
  LlamaLogLevel: Record<string, string>;
}

/** node-llama-cpp's llama.cpp, or a reason it is not available. */
export async function loadLlamaCpp(): Promise<{ llama: Nlc } | { missing: string }> {
  let mod: NlcModule;
  try {
    mod = (await import('node-llama-cpp' as string)) as NlcModule;
  } catch (e) {
    return { missing: `node-llama-cpp is not installed (${(e as Error).message.split('\n')[0]})` };
  }
  try {
    // CPU only, never build or download: the prebuilt binaries in node_modules or nothing.
    const llama = await mod.getLlama({
      gpu: false,
      build: 'never',
      usePrebuiltBinaries: true,
      progressLogs: false,
      logLevel: mod.LlamaLogLevel.error,
      skipDownload: true,
    });
    return { llama };
  } catch (e) {
    return { missing: `node-llama-cpp has no usable prebuilt binary here (${(e as Error).message.split('\n')[0]})` };
  }
}

export interface LlamaCppRun {
  model: string;
  threads: number;
  /** A LoRA GGUF applied at scale 1. */
  lora?: string;
  contextSize?: number;
}

async function openContext(llama: Nlc, o: LlamaCppRun, contextSize: number): Promise<{ model: NlcModel; context: NlcContext }> {
  const model = await llama.loadModel({ modelPath: o.model, gpuLayers: 0 });
  try {
    const context = await model.createContext({
      contextSize,
      batchSize: contextSize,
      threads: o.threads,
      sequences: 1,
      ...(o.lora ? { lora: { adapters: [{ filePath: o.lora, scale: 1 }] } } : {}),
    });
    return { model, context };
  } catch (e) {
    await model.dispose();
    throw e;
  }
}

/** Takes `n` greedy tokens after `prompt`, feeding each back (an end-of-generation token does not stop it). */
async function greedyOn(seq: NlcSequence, prompt: number[], n: number): Promise<number[]> {
  const out: number[] = [];
  let input = prompt;
  while (out.length < n) {
    const it = seq.evaluate(input, { temperature: 0, yieldEogToken: true });
    let step = await it.next();
    while (!step.done && out.length < n) {
      out.push(step.value);
      if (out.length < n) step = await it.next();
    }
    await it.return(undefined);
    if (out.length < n && step.done) input = [out[out.length - 1]];
    else break;
  }
  return out;
}

/** Greedy continuations of each prompt (token ids in, token ids out), each from an empty cache. */
export async function llamaCppGreedy(llama: Nlc, o: LlamaCppRun, prompts: number[][], n: number): Promise<number[][]> {
  const longest = Math.max(...prompts.map((p) => p.length)) + n + 8;
  const { model, context } = await openContext(llama, o, o.contextSize ?? Math.max(64, longest));
  try {
    const seq = context.getSequence();
    const out: number[][] = [];
    for (const prompt of prompts) {
      await seq.clearHistory();
      out.push(await greedyOn(seq, prompt, n));
    }
    return out;
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

export interface LlamaCppSpeed {
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

/** The untimed warm-up of both engines' speed runs: this many prompt tokens, then this many decode steps. */
export const WARM_UP_PROMPT = 8;
export const WARM_UP_DECODE = 4;

/**
 * The same measurement as our `bench infer`: one prefill of `prompt` (after a short warm-up), then
 * `decodeTokens` single-token steps (greedy, each generated token fed back).
 */
export async function llamaCppSpeed(llama: Nlc, o: LlamaCppRun, prompt: number[], decodeTokens: number): Promise<LlamaCppSpeed> {
  const { model, context } = await openContext(llama, o, o.contextSize ?? prompt.length + decodeTokens + 16);
  try {
    const seq = context.getSequence();
    // Warm-up, as bench infer's: a short prompt and a few decode steps (allocations, first-run planning).
    const warm = seq.evaluate(prompt.slice(0, WARM_UP_PROMPT), { temperature: 0, yieldEogToken: true });
    for (let i = 0; i <= WARM_UP_DECODE; i++) if ((await warm.next()).done) break;
    await warm.return(undefined);
    await seq.clearHistory();
    // Prefill = evaluating the prompt up to the first token's logits (as our forward over the prompt);
    // decode = each further step, one token in, the greedy token out and fed back.
    const t0 = performance.now();
    const it = seq.evaluate(prompt, { temperature: 0, yieldEogToken: true });
    await it.next();
    const prefillSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    let steps = 0;
    for (; steps < decodeTokens; steps++) if ((await it.next()).done) break;
    const decodeSeconds = (performance.now() - t1) / 1000;
    await it.return(undefined);
    return { prefillTokensPerSecond: prompt.length / prefillSeconds, decodeTokensPerSecond: steps / decodeSeconds };
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

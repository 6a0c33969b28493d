// The in-process backend: the same engine `codefudge serve` runs, behind the CompletionBackend seam.
import type { Completer, StopReason } from '../../engine/index.js';
import type { BackendRequest, BackendResult, CompletionBackend, FinishReason } from './completion-backend.js';
import { DeltaStream } from './stream-text.js';

/** The engine's stop reasons in OpenAI's words. */
export function finishReasonOf(reason: StopReason): FinishReason {
  if (reason === 'max-tokens') return 'length';
  if (reason === 'aborted') return 'abort';
  return 'stop';
}

export class LocalBackend implements CompletionBackend {
  /** `completer` is asked for on each request, so a model swapped under it is picked up. */
  constructor(private readonly completer: () => Promise<Completer>) {}

  async complete(req: BackendRequest): Promise<BackendResult> {
    const completer = await this.completer();
    const ids = completer.withBos(completer.tokenizer.encode(req.prompt));
    const stream = req.onText && new DeltaStream(req.stop, req.onText);
    const result = await completer.completeIds(ids, {
      maxNewTokens: req.maxTokens,
      temperature: req.temperature,
      topP: req.topP,
      stopStrings: req.stop,
      signal: req.signal,
      onText: stream && ((text) => stream.update(text)),
    });
    stream?.finish(result.text);
    return { text: result.text, finishReason: finishReasonOf(result.reason) };
  }
}

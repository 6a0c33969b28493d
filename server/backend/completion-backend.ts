// The seam between "what to complete" and "who runs the model": the in-process engine or any
// OpenAI-compatible server (vLLM, llama.cpp's llama-server, Ollama, `codefudge serve --http`).
// The prompt is always built here, with the model's own FIM template; a backend only continues it.

export interface BackendRequest {
  /** The whole prompt text, FIM sentinels included (no BOS: the server adds it as its tokenizer says). */
  prompt: string;
  maxTokens: number;
  /** 0 decodes greedily. */
  temperature: number;
  topP?: number;
  /** Generation ends before the first of these; they are not part of the text. */
  stop: string[];
  /** Aborting it stops generation (and, for a remote backend, closes the HTTP request). */
  signal: AbortSignal;
  /** Called with each new piece of text as it is generated (streaming). */
  onText?: (delta: string) => void;
}

/** OpenAI's finish reasons: "stop" (stop token or string), "length" (max tokens), "abort" (cancelled). */
export type FinishReason = 'stop' | 'length' | 'abort';

export interface BackendResult {
  text: string;
  finishReason: FinishReason | string;
}

export interface CompletionBackend {
  complete(req: BackendRequest): Promise<BackendResult>;
}

/** A backend failure with one line to show the user; `retryable` when trying again later may help. */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

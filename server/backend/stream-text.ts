// Streaming text safely: what of the text generated so far can be sent without being taken back.

/**
 * How much of `text` can be streamed now: all of it but a tail that could still become a stop
 * string (that tail would be cut from the final text) or half a character (the decoder shows an
 * unfinished UTF-8 sequence as U+FFFD until the next token completes it).
 */
export function streamableLength(text: string, stops: readonly string[]): number {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0xfffd) end--;
  let held = 0;
  for (const stop of stops) {
    for (let k = Math.min(stop.length - 1, end); k > held; k--) {
      if (text.endsWith(stop.slice(0, k), end)) {
        held = k;
        break;
      }
    }
  }
  return end - held;
}

/** Emits the growing text as deltas, never one that a later, longer text does not start with. */
export class DeltaStream {
  private sent = '';

  constructor(
    private readonly stops: readonly string[],
    private readonly emit: (delta: string) => void,
  ) {}

  /** The text so far (not final: a tail that may become a stop string is held back). */
  update(text: string): void {
    const safe = text.slice(0, streamableLength(text, this.stops));
    if (safe.length > this.sent.length && safe.startsWith(this.sent)) {
      this.emit(safe.slice(this.sent.length));
      this.sent = safe;
    }
  }

  /** The final text: what was held back is sent now. */
  finish(text: string): void {
    if (text.length > this.sent.length && text.startsWith(this.sent)) {
      this.emit(text.slice(this.sent.length));
      this.sent = text;
    }
  }
}

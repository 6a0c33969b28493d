// Answers at once when the user types exactly what was suggested: the rest of the suggestion is
// still the model's answer, so there is no need to run it again.

/** Characters compared on each side of the cursor to recognise the same place in the same text. */
const CONTEXT_CHARS = 256;

interface Entry {
  prefixLength: number;
  prefixTail: string;
  suffixLength: number;
  suffixHead: string;
  text: string;
}

export interface CacheStats {
  entries: number;
  hits: number;
  misses: number;
}

export class CompletionCache {
  private readonly byDocument = new Map<string, Entry[]>();
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly perDocument = 8,
    private readonly documents = 64,
  ) {}

  /** Remembers that `text` was suggested at `offset` of `document` (the document's whole text). */
  remember(uri: string, document: string, offset: number, text: string): void {
    if (!text) return;
    const entry: Entry = {
      prefixLength: offset,
      prefixTail: document.slice(Math.max(0, offset - CONTEXT_CHARS), offset),
      suffixLength: document.length - offset,
      suffixHead: document.slice(offset, offset + CONTEXT_CHARS),
      text,
    };
    const list = [entry, ...(this.byDocument.get(uri) ?? [])].slice(0, this.perDocument);
    this.byDocument.delete(uri);
    this.byDocument.set(uri, list);
    if (this.byDocument.size > this.documents) this.byDocument.delete(this.byDocument.keys().next().value as string);
  }

  /**
   * The rest of a suggestion when the text before `offset` is an earlier suggestion's prefix plus a
   * start of that suggestion and the text after it is unchanged; undefined otherwise.
   */
  lookup(uri: string, document: string, offset: number): string | undefined {
    for (const e of this.byDocument.get(uri) ?? []) {
      const typed = offset - e.prefixLength;
      if (typed < 0 || typed >= e.text.length) continue;
      if (document.length - offset !== e.suffixLength) continue;
      if (document.slice(offset, offset + CONTEXT_CHARS) !== e.suffixHead) continue;
      if (document.slice(Math.max(0, e.prefixLength - CONTEXT_CHARS), e.prefixLength) !== e.prefixTail) continue;
      if (document.slice(e.prefixLength, offset) !== e.text.slice(0, typed)) continue;
      this.hits++;
      return e.text.slice(typed);
    }
    this.misses++;
    return undefined;
  }

  forget(uri: string): void {
    this.byDocument.delete(uri);
  }

  stats(): CacheStats {
    let entries = 0;
    for (const list of this.byDocument.values()) entries += list.length;
    return { entries, hits: this.hits, misses: this.misses };
  }
}

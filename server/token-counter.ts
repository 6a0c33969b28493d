// Counting tokens line by line, remembered: the prompt window is re-measured on every keystroke,
// and all its lines but the one being typed are the same as last time.

export type TokenCounter = (text: string) => number;

/** A counter that remembers the counts of the last `maxEntries` distinct texts. */
export function memoTokenCounter(encode: (text: string) => readonly number[], maxEntries = 50_000): TokenCounter {
  const counts = new Map<string, number>();
  return (text) => {
    if (text === '') return 0;
    let n = counts.get(text);
    if (n === undefined) {
      n = encode(text).length;
      if (counts.size >= maxEntries) counts.delete(counts.keys().next().value as string);
      counts.set(text, n);
    }
    return n;
  };
}

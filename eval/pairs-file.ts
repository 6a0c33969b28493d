import { readFileSync } from 'node:fs';
import { messageOf, UserError } from '../common/index.js';

/** One line of a pairs file: the generated text and the expected one. */
export interface TextPair {
  hyp: string;
  ref: string;
}

/**
 * Reads a JSON Lines file of `{"hyp": "...", "ref": "..."}` objects (other keys are ignored,
 * blank lines skipped). The whole file is checked before anything is returned, so a bad line
 * stops the run before any output; the UserError names the file and the 1-based line.
 */
export function readPairsFile(path: string): TextPair[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read pairs file ${path}: ${messageOf(e)}`);
  }
  const pairs: TextPair[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new UserError(`${where}: not valid JSON (${messageOf(e)})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new UserError(`${where}: expected an object like {"hyp": "...", "ref": "..."}`);
    }
    const record = value as Record<string, unknown>;
    for (const key of ['hyp', 'ref']) {
      if (!(key in record)) throw new UserError(`${where}: missing "${key}"`);
      if (typeof record[key] !== 'string') {
        throw new UserError(`${where}: "${key}" must be a string, got ${record[key] === null ? 'null' : typeof record[key]}`);
      }
    }
    pairs.push({ hyp: record.hyp as string, ref: record.ref as string });
  });
  return pairs;
}

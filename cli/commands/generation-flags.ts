import type { GenerateOptions } from '../../engine/index.js';
import { flagInt, flagNumber, type FlagValues, type OptionTable } from '../flags.js';

/** The decoding flags every generating command shares. */
export const generationFlags = {
  options: {
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    beams: { type: 'string' },
    'repetition-penalty': { type: 'string' },
  } satisfies OptionTable,
  help: `  --temperature T     0 decodes greedily (0)
  --top-k K --top-p P sampling filters
  --seed N            sampling seed (0)
  --beams N           beam search with N beams (1)
  --repetition-penalty R   (1)`,
};

export function generationOptions(values: FlagValues<typeof generationFlags.options>): Partial<GenerateOptions> {
  return {
    temperature: flagNumber(values, 'temperature', 0),
    topK: flagInt(values, 'top-k', 0),
    topP: flagNumber(values, 'top-p', 1),
    seed: flagInt(values, 'seed', 0),
    numBeams: flagInt(values, 'beams', 1),
    repetitionPenalty: flagNumber(values, 'repetition-penalty', 1),
  };
}

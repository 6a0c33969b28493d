import type { GenerateOptions } from '../../engine/index.js';
import { type Args, flagInt, flagNumber } from '../args.js';

/** The decoding flags every generating command shares. */
export const generationFlags = {
  names: ['temperature', 'top-k', 'top-p', 'seed', 'beams', 'repetition-penalty'],
  help: `  --temperature T     0 decodes greedily (0)
  --top-k K --top-p P sampling filters
  --seed N            sampling seed (0)
  --beams N           beam search with N beams (1)
  --repetition-penalty R   (1)`,
};

export function generationOptions(args: Args): Partial<GenerateOptions> {
  return {
    temperature: flagNumber(args, 'temperature', 0),
    topK: flagInt(args, 'top-k', 0),
    topP: flagNumber(args, 'top-p', 1),
    seed: flagInt(args, 'seed', 0),
    numBeams: flagInt(args, 'beams', 1),
    repetitionPenalty: flagNumber(args, 'repetition-penalty', 1),
  };
}

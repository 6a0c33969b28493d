// What every part shares and nothing model-specific. common/ imports nothing of the project.
export { UserError, messageOf } from './errors.js';
export { AtomicFile, cannotWrite, makeFolder, mkdirp, writeFileAtomic, writeTextAtomic, whyNotWritable } from './atomic-write.js';
export { AtomicJsonlWriter } from './jsonl-writer.js';
export { mulberry32, Rng, randomInt, randInt, hash32, mix32, createRng, shuffleInPlace, shuffled, shuffledIndices } from './random.js';
export type { Random } from './random.js';
export { cliPath, packageRoot } from './package-root.js';

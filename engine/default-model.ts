import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, UserError } from '../common/index.js';
import { resolveModel } from './resolve-model.js';

/** The embedded model shipped in the package's `models/` folder (the default of every command). */
export const EMBEDDED_MODEL = 'codefudge-py-small';

export function embeddedModelDir(): string {
  return join(packageRoot(), 'models', EMBEDDED_MODEL);
}

/** `--model` if given (a folder or a hub id), else the embedded model. */
export async function modelDirFor(spec: string | undefined): Promise<string> {
  if (spec) return resolveModel(spec);
  const dir = embeddedModelDir();
  if (!existsSync(join(dir, 'config.json'))) {
    throw new UserError(`the embedded model is missing at ${dir}; pass --model DIR`);
  }
  return dir;
}

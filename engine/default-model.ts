import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../common/index.js';
import { resolveModel } from './resolve-model.js';

/** The embedded model shipped in the package's `models/` folder (the default of every command). */
export const EMBEDDED_MODEL = 'codefudge-py-small';

function packageRoot(): string {
  // This file runs from dist/engine/ (compiled) — the package root is two levels up either way.
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

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

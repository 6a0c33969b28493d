// The name a workspace's adapter goes by on a server (vLLM's lora_name, `model` in requests).
import { basename, dirname, resolve } from 'node:path';

/**
 * `<repo>/.codefudge/adapter` is named after the repository folder; any other adapter folder after
 * itself. Names keep to letters, digits, `.`, `_` and `-`, which every server accepts.
 */
export function adapterNameFor(dir: string): string {
  const abs = resolve(dir);
  const parent = dirname(abs);
  const base = basename(abs) === 'adapter' && basename(parent) === '.codefudge' ? basename(dirname(parent)) : basename(abs);
  return base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'adapter';
}

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The codefudge package's folder: the first one above `moduleUrl` holding a package.json. Code runs
 * from dist/<part>/ (tsc's output, which tests import) and from dist/bundle/ (the CLI's bundle), so
 * files of the package are found by walking up, never by a fixed number of `..`.
 */
export function packageRoot(moduleUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** bin/codefudge.js of this package. */
export function cliPath(): string {
  return join(packageRoot(), 'bin', 'codefudge.js');
}

// The README's first command: a completion on examples/hello.py with the embedded model.
// Until the embedded model is trained and shipped, a small random model is made in the cache instead.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { embeddedModelDir, cacheRoot } from '../dist/engine/index.js';

let model = embeddedModelDir();
if (!existsSync(join(model, 'config.json'))) {
  const { makeTinyModel } = await import('../dist/test/helpers/tiny-model.js');
  model = join(cacheRoot(), 'demo-model');
  if (!existsSync(join(model, 'config.json'))) makeTinyModel(model, { layers: 2, hidden: 64, heads: 4, kvHeads: 2, seed: 1 });
  console.error(`(no embedded model yet: using a random demo model at ${model})`);
}
const args = ['bin/codefudge.js', 'complete', '--model', model, 'examples/hello.py:5:9', ...process.argv.slice(2)];
process.exit(spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1);

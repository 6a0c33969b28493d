// The README's first command: a completion at the cursor of examples/hello.py (line 5, column 9)
// with the embedded model, as `codefudge complete` prints it.
import { spawnSync } from 'node:child_process';

const args = ['bin/codefudge.js', 'complete', 'examples/hello.py:5:9', '--stop', 'line', ...process.argv.slice(2)];
process.stderr.write('$ codefudge complete examples/hello.py:5:9 --stop line\n');
process.exit(spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1);

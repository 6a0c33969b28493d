// node dist/bench/make-synthetic-history.js DIR COMMITS: a repository for the big-history benchmarks
// (`codefudge bench history DIR`, `codefudge adapt DIR --time 10m`), made by git fast-import.
import { makeSyntheticHistory } from './synthetic-history.js';

const [dir, count] = process.argv.slice(2);
if (!dir || !(Number(count) > 0)) {
  process.stderr.write('usage: node dist/bench/make-synthetic-history.js DIR COMMITS\n');
  process.exit(2);
}
const started = performance.now();
await makeSyntheticHistory(dir, {
  commits: Number(count),
  files: 200,
  functionsPerFile: 40,
  onProgress: (done, total) => process.stderr.write(`${done}/${total} commits\n`),
});
process.stderr.write(`${dir}: ${count} commits in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

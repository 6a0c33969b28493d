// A report made without a model: real tasks from crafted files, generations made up from the
// expected middles, scored and summarised by the real code.
import {
  buildReport,
  buildTaskSets,
  loadStructureParser,
  scoreMiddle,
  summarizeSet,
  type FimEvalReport,
  type FimEvalResult,
  type GeneratedMiddle,
  type SourceFile,
  type TaskResult,
} from '../../eval/index.js';
import { files } from './tasks-fixtures.js';

/** Code that would run or break the page if it were not escaped. */
export const HOSTILE = 'html = "</script><script>document.title=\'pwned\'</script><b>&amp;</b>"';

export function reportFiles(): SourceFile[] {
  return [...files(), { path: 'web/<evil>.py', text: `def render():\n    ${HOSTILE}\n    return html\n`, language: 'python' }];
}

function generated(text: string, expected: string, cosine: number): GeneratedMiddle {
  return { text, reason: 'stop-token', tokens: text.length, milliseconds: 1.5, ...scoreMiddle(text, expected, cosine) };
}

export async function syntheticReport(withAdapter: boolean): Promise<FimEvalReport> {
  const parser = await loadStructureParser(['python', 'typescript'], { treeSitter: false });
  const taskSets = buildTaskSets(reportFiles(), parser, {
    sets: ['function-line', 'single-line', 'multi-line', 'random-span'],
    seed: 1,
    limit: 0,
  });
  const results: TaskResult[] = taskSets
    .flatMap((s) => s.tasks)
    .map((task, i) => ({
      task,
      // The base model gets the first half of each middle right; the adapter all of every other one.
      base: generated(task.middle.slice(0, Math.ceil(task.middle.length / 2)), task.middle, 0.5 + (i % 5) / 10),
      ...(withAdapter ? { adapter: generated(i % 2 ? task.middle : task.middle.slice(1), task.middle, 0.9) } : {}),
    }));
  const summary = (name: string, rs: TaskResult[]) =>
    summarizeSet(
      name,
      rs.map((r) => r.base),
      withAdapter ? rs.map((r) => r.adapter!) : undefined,
      { resamples: 200, seed: 0 },
    );
  const result: FimEvalResult = {
    sets: taskSets.map((s) =>
      summary(
        s.name,
        results.filter((r) => r.task.set === s.name),
      ),
    ),
    overall: summary('all', results),
    results,
    fimFamily: 'starcoder',
    seconds: 1.25,
  };
  return buildReport({
    result,
    taskSets,
    source: { path: '/tmp/project', git: false, files: 3, boundaries: { python: 'heuristic', typescript: 'heuristic' } },
    model: { dir: '/models/tiny', ...(withAdapter ? { adapter: '/adapters/a' } : {}) },
    options: {
      sets: taskSets.map((s) => s.name),
      limit: 0,
      seed: 1,
      decoding: { seed: 1, temperature: 0, numBeams: 1 },
      bootstrap: { resamples: 200, level: 0.95, seed: 0 },
    },
    created: new Date('2026-01-02T03:04:05Z'),
  });
}

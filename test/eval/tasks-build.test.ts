import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildTaskSets,
  loadStructureParser,
  rowRunSpans,
  Lines,
  type FimTask,
  type StructureParser,
  type TaskSetName,
} from '../../eval/index.js';
import {
  files,
  rowOf,
  PYTHON,
  PYTHON_FUNCTIONS,
  PYTHON_SIGNATURE_ROWS,
  TYPESCRIPT,
  TYPESCRIPT_FUNCTIONS,
  TYPESCRIPT_SIGNATURE_ROWS,
} from '../helpers/tasks-fixtures.js';

const heuristic = await loadStructureParser(['python', 'typescript'], { treeSitter: false });
// The grammars ship with @repomix/tree-sitter-wasms, so tree-sitter must load here (a fallback is a failure).
const treeSitter = await loadStructureParser(['python', 'typescript']);
const PARSERS: Array<[string, StructureParser]> = [
  ['heuristic', heuristic],
  ['tree-sitter', treeSitter],
];

describe('tree-sitter grammars', () => {
  it('load for Python and TypeScript', () => {
    assert.equal(treeSitter.source('python'), 'tree-sitter');
    assert.equal(treeSitter.source('typescript'), 'tree-sitter');
  });
});

function build(parser: StructureParser, sets: TaskSetName[], seed = 0, limit = 0) {
  return buildTaskSets(files(), parser, { sets, seed, limit });
}

function textOf(task: FimTask): string {
  return files().find((f) => f.path === task.path)!.text;
}

function assertReassembles(tasks: FimTask[]) {
  for (const t of tasks) {
    const text = textOf(t);
    assert.equal(t.prefix + t.middle + t.suffix, text, t.id);
    assert.equal(t.prefix.length, t.start);
    assert.equal(t.start + t.middle.length, t.end);
    assert.equal(t.line, rowOf(text, t.start) + 1);
  }
}

const functionRows = (s: ReturnType<StructureParser['parse']>) =>
  s.functions
    .filter((f) => f.body)
    .map((f) => [f.signature.first, f.signature.last, f.body!.first, f.body!.last])
    .sort((a, b) => a[0] - b[0]);
const blockKeys = (s: ReturnType<StructureParser['parse']>) => [...new Set(s.blocks.map((b) => `${b.first}-${b.last}`))].sort();

for (const [kind, parser] of PARSERS) {
  describe(`function and block boundaries (${kind})`, () => {
    it('finds each function with a body: its signature rows and body rows', () => {
      assert.deepEqual(functionRows(parser.parse(PYTHON, 'python')), PYTHON_FUNCTIONS);
      assert.deepEqual(functionRows(parser.parse(TYPESCRIPT, 'typescript')), TYPESCRIPT_FUNCTIONS);
    });

    it('finds the statement blocks that own their lines', () => {
      assert.deepEqual(blockKeys(parser.parse(PYTHON, 'python')), ['14-17', '15-17', '16-16', '6-7']);
      assert.deepEqual(blockKeys(parser.parse(TYPESCRIPT, 'typescript')), ['1-2', '14-17', '15-15', '6-6']);
    });
  });

  describe(`task sets (${kind})`, () => {
    it('function-line: one body line per function, never a signature, over many seeds', () => {
      const chosen = new Map<string, Set<number>>();
      for (let seed = 0; seed < 40; seed++) {
        const [set] = build(parser, ['function-line'], seed);
        assert.equal(set.tasks.length, 6);
        assert.equal(set.candidates, 6);
        assertReassembles(set.tasks);
        for (const task of set.tasks) {
          const text = textOf(task);
          const row = rowOf(text, task.start);
          const signatures = task.path.endsWith('.py') ? PYTHON_SIGNATURE_ROWS : TYPESCRIPT_SIGNATURE_ROWS;
          assert.ok(!signatures.has(row), `seed ${seed}: ${task.path} row ${row} is a signature`);
          assert.equal(task.middle, text.split('\n')[row], 'the middle is one whole line');
          assert.equal(task.stop, 'line');
          assert.ok(task.suffix.startsWith('\n'));
          const key = `${task.path}`;
          if (!chosen.has(key)) chosen.set(key, new Set());
          chosen.get(key)!.add(row);
        }
      }
      // Every eligible body line is picked by some seed, and no other line ever is.
      assert.deepEqual(
        [...chosen.get('pkg/box.py')!].sort((a, b) => a - b),
        [6, 7, 16, 17],
      );
      assert.deepEqual(
        [...chosen.get('src/greet.ts')!].sort((a, b) => a - b),
        [1, 2, 6, 14, 15, 17],
      );
    });

    it('single-line: every line holding a word, whole', () => {
      const [set] = build(parser, ['single-line']);
      assertReassembles(set.tasks);
      const rows = (path: string) => set.tasks.filter((x) => x.path === path).map((x) => rowOf(textOf(x), x.start));
      assert.deepEqual(rows('pkg/box.py'), [0, 3, 4, 5, 6, 7, 10, 13, 14, 15, 16, 17]);
      assert.deepEqual(rows('src/greet.ts'), [0, 1, 2, 5, 6, 9, 11, 12, 13, 14, 15, 17]);
    });

    it('multi-line: whole blocks of two or more lines, exactly', () => {
      const [set] = build(parser, ['multi-line']);
      assertReassembles(set.tasks);
      const py = PYTHON.split('\n');
      const ts = TYPESCRIPT.split('\n');
      assert.deepEqual(
        set.tasks.map((x) => x.middle),
        [
          py.slice(6, 8).join('\n'),
          py.slice(14, 18).join('\n'),
          py.slice(15, 18).join('\n'),
          ts.slice(1, 3).join('\n'),
          ts.slice(14, 18).join('\n'),
        ],
      );
      assert.ok(set.tasks.every((x) => x.stop === 'block'));
    });
  });
}

describe('task sets (any boundaries)', () => {
  it('random-span: character spans holding code, inside the file', () => {
    for (let seed = 0; seed < 20; seed++) {
      const [set] = build(heuristic, ['random-span'], seed);
      assert.equal(set.tasks.length, 2, 'one span per 40 lines, at least one per file');
      assertReassembles(set.tasks);
      for (const t of set.tasks) {
        assert.ok(t.middle.length >= 1 && t.middle.length <= 100);
        assert.match(t.middle, /\S/);
        assert.equal(t.stop, 'none');
      }
    }
  });

  it('is reproducible: the same seed gives the same tasks, other seeds other ones', () => {
    const sets: TaskSetName[] = ['function-line', 'single-line', 'multi-line', 'random-span'];
    assert.deepEqual(build(heuristic, sets, 7, 3), build(heuristic, sets, 7, 3));
    const spans = (seed: number) =>
      JSON.stringify(build(heuristic, ['random-span', 'function-line'], seed).map((s) => s.tasks.map((t) => t.id)));
    assert.ok([1, 2, 3, 4, 5].some((seed) => spans(seed) !== spans(0)));
  });

  it('--limit takes a seeded subset of the candidates, in file order', () => {
    const [all] = build(heuristic, ['single-line'], 3, 0);
    const [five] = build(heuristic, ['single-line'], 3, 5);
    assert.equal(five.tasks.length, 5);
    assert.equal(five.candidates, all.tasks.length);
    const ids = all.tasks.map((t) => t.id);
    const positions = five.tasks.map((t) => ids.indexOf(t.id));
    assert.ok(positions.every((p) => p >= 0));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
    );
    assert.notDeepEqual(
      five.tasks.map((t) => t.id),
      ids.slice(0, 5),
      'a shuffled choice, not the first five',
    );
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    assert.equal(build(heuristic, ['single-line'], 3, 1000)[0].tasks.length, all.tasks.length);
  });
});

describe('temporal middles from added lines', () => {
  const text = ['def f():', '    a = 1', '    b = 2', '    c = 3', '', '    d = 4', 'x = 5', 'y = 6', ''].join('\n');

  it('splits runs of added rows at blank lines and dedents', () => {
    const lines = new Lines(text);
    const spans = rowRunSpans(lines, [2, 3, 4, 5, 6]);
    assert.deepEqual(
      spans.map((s) => [text.slice(s.start, s.end), s.stop]),
      [
        ['    b = 2\n    c = 3', 'block'],
        ['    d = 4', 'line'],
        ['x = 5', 'line'],
      ],
    );
  });

  it('caps a piece at the most lines a block middle may have', () => {
    const long = Array.from({ length: 30 }, (_, i) => `v${i} = ${i}`).join('\n');
    const spans = rowRunSpans(
      new Lines(long),
      Array.from({ length: 30 }, (_, i) => i),
      12,
    );
    assert.deepEqual(
      spans.map((s) => long.slice(s.start, s.end).split('\n').length),
      [12, 12, 6],
    );
  });

  it('builds temporal tasks with the file after the commit as context', () => {
    const [set] = buildTaskSets([], heuristic, { sets: ['temporal'] }, [
      { sha: 'a'.repeat(40), path: 'm.py', after: text, addedLines: [3, 4] },
      { sha: 'b'.repeat(40), path: 'notes.md', after: 'hello\n', addedLines: [1] },
    ]);
    assert.equal(set.tasks.length, 1, 'files of other languages are left out');
    const [t] = set.tasks;
    assert.equal(t.sha, 'a'.repeat(40));
    assert.equal(t.middle, '    b = 2\n    c = 3');
    assert.equal(t.prefix + t.middle + t.suffix, text);
    assert.equal(t.line, 3);
  });
});

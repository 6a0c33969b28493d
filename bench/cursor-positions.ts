// What a user sees at 12 realistic cursor positions in a real Python project: for each, the file is
// opened in `codefudge serve` (over stdio, as an editor does) with the code at the cursor removed,
// as if the user were about to write it, and an explicit completion is asked for there. Prints the
// place, what the project really has there, and the completion's text.
//
//   node dist/bench/cursor-positions.js REPO [--model DIR] [--cli PATH/bin/codefudge.js] [--no-adapter] [--json]
//
// The positions depend only on the repository's files (sorted, spread evenly over the candidates),
// so two builds (before/after a change) see the same 12 positions: pass the other build's
// bin/codefudge.js with --cli to compare.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { cliPath } from '../common/index.js';

export interface CursorCase {
  kind: string;
  file: string;
  /** The document the editor holds: the file with the code at the cursor removed. */
  text: string;
  line: number;
  character: number;
  /** What the project has where the cursor is (the removed code, to the end of its line). */
  original: string;
}

/** Kinds of places, how many of each, and how to make the case from a line (undefined: not a candidate). */
const KINDS: { kind: string; count: number; make: (lines: string[], i: number) => { line: string; cut: number } | undefined }[] = [
  {
    // The first line of a function body, written right after its `def` line.
    kind: 'first line of a function body',
    count: 4,
    make: (lines, i) =>
      i > 0 && /^\s*(async\s+)?def .*:\s*$/.test(lines[i - 1]) && /^\s+\S/.test(lines[i]) && !/^\s*("""|''')/.test(lines[i])
        ? { line: lines[i], cut: /^\s*/.exec(lines[i])![0].length }
        : undefined,
  },
  {
    // The right-hand side of an assignment, after "name = ".
    kind: 'right-hand side of an assignment',
    count: 3,
    make: (lines, i) => {
      const m = /^(\s*[A-Za-z_][\w.]*\s*=\s)(?!=)\S/.exec(lines[i]);
      return m ? { line: lines[i], cut: m[1].length } : undefined;
    },
  },
  {
    // The arguments of a call, after its "(".
    kind: 'arguments of a call',
    count: 2,
    make: (lines, i) => {
      const m = /^(\s*(?:return\s+)?[A-Za-z_][\w.]*\()[^)]/.exec(lines[i]);
      return m && !/^\s*(def|class)\b/.test(lines[i]) ? { line: lines[i], cut: m[1].length } : undefined;
    },
  },
  {
    // A statement in the middle of a block, at its indentation.
    kind: 'a statement inside a block',
    count: 2,
    make: (lines, i) =>
      i > 0 && /^\s{8,}\S/.test(lines[i]) && /^\s{8,}\S.*[^:,(\[{\\]\s*$/.test(lines[i - 1]) && !/^\s*[)\]}#]/.test(lines[i])
        ? { line: lines[i], cut: /^\s*/.exec(lines[i])![0].length }
        : undefined,
  },
  {
    // An attribute after "self.".
    kind: 'attribute after self.',
    count: 1,
    make: (lines, i) => {
      const m = /^(\s+(?:return\s+|\w+\s*=\s*)?self\.)\w/.exec(lines[i]);
      return m ? { line: lines[i], cut: m[1].length } : undefined;
    },
  },
];

function pythonFiles(repo: string): string[] {
  try {
    return execFileSync('git', ['-C', repo, 'ls-files', '*.py'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean)
      .map((f) => join(repo, f))
      .sort();
  } catch {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort()) {
        if (name.startsWith('.') || name === 'node_modules') continue;
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith('.py')) out.push(p);
      }
    };
    walk(repo);
    return out;
  }
}

/** The 12 cases: for each kind, candidates spread evenly over the repository's files. */
export function cursorCases(repo: string): CursorCase[] {
  const files = pythonFiles(repo).filter((f) => !/(^|\/)(tests?|docs?)\//.test(relative(repo, f)));
  const candidates = new Map<string, CursorCase[]>(KINDS.map((k) => [k.kind, []]));
  for (const file of files) {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (source.length > 200_000 || source.includes('\r')) continue;
    const lines = source.split('\n');
    for (let i = 0; i < lines.length; i++) {
      for (const k of KINDS) {
        const c = k.make(lines, i);
        if (!c) continue;
        const kept = c.line.slice(0, c.cut);
        const text = [...lines.slice(0, i), kept, ...lines.slice(i + 1)].join('\n');
        candidates.get(k.kind)!.push({ kind: k.kind, file, text, line: i, character: kept.length, original: c.line.slice(c.cut) });
      }
    }
  }
  const cases: CursorCase[] = [];
  for (const k of KINDS) {
    const list = candidates.get(k.kind)!;
    for (let j = 0; j < k.count && list.length; j++) cases.push(list[Math.floor(((j + 0.5) * list.length) / k.count)]);
  }
  return cases;
}

export interface CursorResult extends CursorCase {
  completion: string;
  milliseconds: number;
}

export async function completeCases(
  cases: CursorCase[],
  opts: { repo: string; cli: string; model?: string; adapter: boolean },
): Promise<CursorResult[]> {
  const child = spawn(process.execPath, [opts.cli, 'serve', ...(opts.model ? ['--model', opts.model] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  rpc.onRequest(() => null);
  rpc.onNotification(() => undefined);
  rpc.listen();
  const results: CursorResult[] = [];
  try {
    await rpc.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(opts.repo).href,
      capabilities: {},
      initializationOptions: opts.adapter ? {} : { adapter: false },
    });
    rpc.sendNotification('initialized', {});
    // The model loads on the first request: load it first, so the timings are the completions'.
    const warm = `${pathToFileURL(opts.repo).href}/codefudge-warm-up.py`;
    rpc.sendNotification('textDocument/didOpen', { textDocument: { uri: warm, languageId: 'python', version: 1, text: 'x = \n' } });
    await rpc.sendRequest('textDocument/completion', {
      textDocument: { uri: warm },
      position: { line: 0, character: 4 },
      context: { triggerKind: 1 },
    });
    for (const [i, c] of cases.entries()) {
      // One document per case, so no case sees another's edit.
      const uri = `${pathToFileURL(c.file).href}?case=${i}`;
      rpc.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text: c.text } });
      const t0 = performance.now();
      const list = (await rpc.sendRequest('textDocument/completion', {
        textDocument: { uri },
        position: { line: c.line, character: c.character },
        context: { triggerKind: 1 },
      })) as { items?: { textEdit?: { newText: string }; insertText?: string }[] } | null;
      const item = list?.items?.[0];
      results.push({ ...c, completion: item?.textEdit?.newText ?? item?.insertText ?? '', milliseconds: performance.now() - t0 });
      rpc.sendNotification('textDocument/didClose', { textDocument: { uri } });
    }
    await rpc.sendRequest('shutdown');
    rpc.sendNotification('exit');
  } finally {
    setTimeout(() => child.kill(), 2000).unref();
  }
  return results;
}

export function formatResults(repo: string, results: CursorResult[]): string {
  const out: string[] = [];
  for (const [i, r] of results.entries()) {
    const lineBefore = r.text.split('\n')[r.line].slice(0, r.character);
    out.push(`[${i + 1}] ${relative(repo, r.file)}:${r.line + 1}:${r.character + 1}  ${r.kind}  (${Math.round(r.milliseconds)} ms)`);
    out.push(`    line:       ${JSON.stringify(lineBefore)} + cursor`);
    out.push(`    project:    ${JSON.stringify(r.original)}`);
    out.push(`    completion: ${JSON.stringify(r.completion)}`);
  }
  return out.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const repo = argv.find((a, i) => !a.startsWith('--') && !['--model', '--cli'].includes(argv[i - 1] ?? ''));
  if (!repo) {
    process.stderr.write(
      'usage: node dist/bench/cursor-positions.js REPO [--model DIR] [--cli PATH/bin/codefudge.js] [--no-adapter] [--json]\n',
    );
    process.exitCode = 2;
    return;
  }
  const cli = resolve(flag('cli') ?? cliPath());
  const cases = cursorCases(resolve(repo));
  const results = await completeCases(cases, { repo: resolve(repo), cli, model: flag('model'), adapter: !argv.includes('--no-adapter') });
  const json = results.map(({ text: _t, ...r }) => ({ ...r, file: relative(resolve(repo), r.file) }));
  process.stdout.write((argv.includes('--json') ? JSON.stringify(json, null, 2) : formatResults(resolve(repo), results)) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) void main(process.argv.slice(2));

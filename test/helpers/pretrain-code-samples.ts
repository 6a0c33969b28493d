// Synthetic but varied Python for the pretrain tests: seeded, so every run sees the same code.
import { createRng, type Random } from '../../common/index.js';

const NAMES = ['value', 'items', 'result', 'count', 'path', 'name', 'config', 'data', 'index', 'total', 'parser', 'node'];
const CALLS = ['len', 'print', 'sorted', 'isinstance', 'range', 'enumerate', 'str', 'int', 'open'];
const WORDS = ['Return', 'the', 'number', 'of', 'items', 'in', 'a', 'list', 'résumé', 'naïve', '日本語', 'data 🙂'];

function pick<T>(rng: Random, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)];
}

function statement(rng: Random): string {
  const a = pick(rng, NAMES);
  const b = pick(rng, NAMES);
  switch (Math.floor(rng() * 6)) {
    case 0:
      return `${a} = ${pick(rng, CALLS)}(${b})`;
    case 1:
      return `self.${a} = ${b} + ${Math.floor(rng() * 1000)}`;
    case 2:
      return `# ${pick(rng, WORDS)} ${pick(rng, WORDS)} ${pick(rng, WORDS)}`;
    case 3:
      return `${a}.append("${pick(rng, WORDS)}")`;
    case 4:
      return `return ${a}[${b}]`;
    default:
      return `${a} += ${b} * 2  # ${pick(rng, WORDS)}`;
  }
}

function block(rng: Random, depth: number, indent: string, lines: string[]): void {
  const n = 1 + Math.floor(rng() * 4);
  for (let i = 0; i < n; i++) {
    const pad = indent.repeat(depth);
    const r = rng();
    if (depth < 6 && r < 0.3) {
      lines.push(`${pad}if ${pick(rng, NAMES)} is not None:`);
      block(rng, depth + 1, indent, lines);
    } else if (depth < 6 && r < 0.45) {
      lines.push(`${pad}for ${pick(rng, NAMES)} in ${pick(rng, NAMES)}:`);
      block(rng, depth + 1, indent, lines);
    } else {
      lines.push(pad + statement(rng));
    }
  }
}

/** One Python module of roughly `targetChars` characters; some use tabs or CRLF line ends. */
export function pythonModule(seed: number, targetChars = 2000): string {
  const rng = createRng(seed);
  const indent = rng() < 0.15 ? '\t' : '    ';
  const lines: string[] = [`"""Module ${seed}: ${pick(rng, WORDS)} ${pick(rng, WORDS)}."""`, 'import os', 'import sys', ''];
  let size = 0;
  while (size < targetChars) {
    const before = lines.length;
    lines.push('', `class ${pick(rng, NAMES).replace(/^./, (c) => c.toUpperCase())}${seed}:`);
    lines.push(`${indent}def __init__(self, ${pick(rng, NAMES)}):`);
    block(rng, 2, indent, lines);
    lines.push('', `${indent}def ${pick(rng, NAMES)}(self, ${pick(rng, NAMES)}=None):`);
    lines.push(`${indent.repeat(2)}"""${pick(rng, WORDS)} ${pick(rng, WORDS)}."""`);
    block(rng, 2, indent, lines);
    for (let i = before; i < lines.length; i++) size += lines[i].length + 1;
  }
  const text = lines.join('\n') + '\n';
  return rng() < 0.1 ? text.replace(/\n/g, '\r\n') : text;
}

/** `count` modules with consecutive seeds. */
export function pythonModules(count: number, firstSeed = 1, targetChars = 2000): string[] {
  return Array.from({ length: count }, (_, i) => pythonModule(firstSeed + i, targetChars));
}

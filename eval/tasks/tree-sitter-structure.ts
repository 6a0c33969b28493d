// Function and block boundaries from tree-sitter parses (web-tree-sitter running wasm grammars).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Language as Grammar, Parser, type Node } from 'web-tree-sitter';
import { messageOf } from '../../common/index.js';
import type { Language } from './languages.js';
import { Lines, isBlank } from './lines.js';
import type { CodeStructure, FunctionShape, RowRange } from './structure.js';

/**
 * Folders searched for `tree-sitter-<language>.wasm`, first hit wins: $CODEFUDGE_GRAMMARS, then
 * grammar packages under node_modules. The grammars must be built for web-tree-sitter's ABI:
 * @repomix/tree-sitter-wasms is; tree-sitter-wasms 0.1.x is built by an older tree-sitter whose
 * wasm files web-tree-sitter 0.27 refuses.
 */
const GRAMMAR_PACKAGES = ['@repomix/tree-sitter-wasms/out', 'tree-sitter-wasms/out'];

const GRAMMAR_FILE: Readonly<Record<Language, string>> = {
  python: 'tree-sitter-python.wasm',
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript.wasm',
};

const FUNCTION_TYPES: Readonly<Record<Language, string[]>> = {
  python: ['function_definition'],
  typescript: [],
  tsx: [],
  javascript: [],
};
const JS_FUNCTIONS = [
  'function_declaration',
  'function_expression',
  'function',
  'generator_function_declaration',
  'generator_function',
  'arrow_function',
  'method_definition',
];
for (const l of ['typescript', 'tsx', 'javascript'] as const) FUNCTION_TYPES[l].push(...JS_FUNCTIONS);

const BLOCK_TYPE: Readonly<Record<Language, string>> = {
  python: 'block',
  typescript: 'statement_block',
  tsx: 'statement_block',
  javascript: 'statement_block',
};

function grammarDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.CODEFUDGE_GRAMMARS) dirs.push(process.env.CODEFUDGE_GRAMMARS);
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    for (const pkg of GRAMMAR_PACKAGES) dirs.push(join(dir, 'node_modules', pkg));
    if (dirname(dir) === dir) break;
  }
  return dirs.filter((d) => existsSync(d));
}

let initialised: Promise<void> | undefined;

/** A grammar that loads into web-tree-sitter, or why none did (every candidate's error). */
export async function loadGrammar(language: Language): Promise<Grammar | string> {
  initialised ??= Parser.init();
  await initialised;
  const tried: string[] = [];
  for (const dir of grammarDirs()) {
    const file = join(dir, GRAMMAR_FILE[language]);
    if (!existsSync(file)) continue;
    try {
      return await Grammar.load(file);
    } catch (e) {
      // web-tree-sitter throws a bare Error for a grammar built for another ABI.
      tried.push(`${file}: ${messageOf(e) || 'incompatible wasm (built for another tree-sitter ABI)'}`);
    }
  }
  return tried.length ? tried.join('; ') : `no ${GRAMMAR_FILE[language]} found (install @repomix/tree-sitter-wasms)`;
}

/** The row a node's last character is on (a node ending at column 0 ends on the row before). */
function lastRow(node: Node): number {
  const { row, column } = node.endPosition;
  return column === 0 && row > node.startPosition.row ? row - 1 : row;
}

/** The statements of a body node as whole lines, when nothing else shares their first and last line. */
function statementRows(lines: Lines, body: Node): RowRange | null {
  const stmts = body.namedChildren;
  if (!stmts.length) return null;
  const firstNode = stmts[0];
  const lastNode = stmts[stmts.length - 1];
  const first = firstNode.startPosition.row;
  const last = lastRow(lastNode);
  const before = lines.text.slice(lines.start(first), firstNode.startIndex);
  const after = lines.text.slice(lastNode.endIndex, lines.end(last));
  return isBlank(before) && isBlank(after) ? { first, last } : null;
}

function functionShape(node: Node, language: Language): FunctionShape {
  const first = node.startPosition.row;
  const body = node.childForFieldName('body');
  if (!body || body.type !== BLOCK_TYPE[language]) return { signature: { first, last: lastRow(node) }, body: null };
  // Python's block starts at its first statement; the signature ends at the colon before it.
  let opener = body.startPosition.row;
  if (language === 'python') {
    for (const c of node.children) if (c.type === ':' && c.endIndex <= body.startIndex) opener = c.startPosition.row;
  }
  const stmts = body.namedChildren;
  const last = stmts.length ? lastRow(stmts[stmts.length - 1]) : opener;
  return { signature: { first, last: opener }, body: last > opener ? { first: opener + 1, last } : null };
}

export class TreeSitterStructure {
  private readonly parser = new Parser();

  constructor(
    grammar: Grammar,
    private readonly language: Language,
  ) {
    this.parser.setLanguage(grammar);
  }

  parse(text: string): CodeStructure {
    const tree = this.parser.parse(text);
    if (!tree) throw new Error(`tree-sitter could not parse a ${this.language} file`);
    try {
      const lines = new Lines(text);
      const root = tree.rootNode;
      const functions = root.descendantsOfType(FUNCTION_TYPES[this.language]).map((n) => functionShape(n, this.language));
      const blocks: RowRange[] = [];
      for (const b of root.descendantsOfType(BLOCK_TYPE[this.language])) {
        const rows = statementRows(lines, b);
        if (rows) blocks.push(rows);
      }
      return { functions, blocks };
    } finally {
      tree.delete();
    }
  }

  release(): void {
    this.parser.delete();
  }
}

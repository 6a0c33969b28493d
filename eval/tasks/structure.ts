import type { Language } from './languages.js';

/** Rows are 0-based line numbers of the file, ranges inclusive. */
export interface RowRange {
  first: number;
  last: number;
}

export interface FunctionShape {
  /** From the function's first line (after decorators) to the line that opens its body. */
  signature: RowRange;
  /** The lines of the body's statements after the signature; null for a one-line function. */
  body: RowRange | null;
}

/** What task construction needs to know of a file's syntax. */
export interface CodeStructure {
  functions: FunctionShape[];
  /** Statement blocks (bodies of functions, loops, branches...) that start and end on lines of their own. */
  blocks: RowRange[];
}

/**
 * How boundaries were found: a tree-sitter parse, or (when no grammar could be loaded) the
 * fallback that reads indentation (Python) and braces (TypeScript/JavaScript) line by line.
 */
export type StructureSource = 'tree-sitter' | 'heuristic';

export interface StructureParser {
  source(language: Language): StructureSource;
  parse(text: string, language: Language): CodeStructure;
}

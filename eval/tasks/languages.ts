import { extname } from 'node:path';

/** Languages whose functions and blocks fim-eval can find (each has a tree-sitter grammar). */
export type Language = 'python' | 'typescript' | 'tsx' | 'javascript';

const BY_EXTENSION: Readonly<Record<string, Language>> = {
  py: 'python',
  pyi: 'python',
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  tsx: 'tsx',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'javascript',
};

/** File extensions (without the dot) fim-eval reads. */
export const SOURCE_EXTENSIONS: readonly string[] = Object.keys(BY_EXTENSION);

export function languageOf(path: string): Language | undefined {
  return BY_EXTENSION[extname(path).slice(1).toLowerCase()];
}

/** Python marks blocks by indentation; the others by braces (what the fallback splitter needs). */
export function usesIndentation(language: Language): boolean {
  return language === 'python';
}

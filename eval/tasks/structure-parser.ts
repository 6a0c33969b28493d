import { heuristicStructure } from './heuristic-structure.js';
import type { Language } from './languages.js';
import type { CodeStructure, StructureParser, StructureSource } from './structure.js';
import { TreeSitterStructure, loadGrammar } from './tree-sitter-structure.js';

export interface LoadedStructureParser extends StructureParser {
  /** Why a language fell back to the heuristic splitter, by language. */
  fallbacks: Map<Language, string>;
  release(): void;
}

/**
 * Tree-sitter for every language whose grammar loads, the heuristic splitter for the rest.
 * `treeSitter: false` forces the heuristic everywhere.
 */
export async function loadStructureParser(
  languages: Iterable<Language>,
  opts: { treeSitter?: boolean } = {},
): Promise<LoadedStructureParser> {
  const parsers = new Map<Language, TreeSitterStructure>();
  const fallbacks = new Map<Language, string>();
  for (const language of new Set(languages)) {
    if (opts.treeSitter === false) {
      fallbacks.set(language, 'tree-sitter disabled');
      continue;
    }
    const grammar = await loadGrammar(language);
    if (typeof grammar === 'string') fallbacks.set(language, grammar);
    else parsers.set(language, new TreeSitterStructure(grammar, language));
  }
  return {
    fallbacks,
    source: (language): StructureSource => (parsers.has(language) ? 'tree-sitter' : 'heuristic'),
    parse(text, language): CodeStructure {
      return parsers.get(language)?.parse(text) ?? heuristicStructure(text, language);
    },
    release() {
      for (const p of parsers.values()) p.release();
    },
  };
}

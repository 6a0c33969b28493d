// Fill-in-the-middle prompt templates, one per model family, picked from the tokenizer's special tokens.
// Each renders the exact string its family was trained on (model cards / reference code of each family).
import { UserError } from '../common/index.js';

export type FimMode = 'psm' | 'spm';
export type FimFamily = 'starcoder' | 'qwen' | 'deepseek' | 'codellama';

export interface FimTemplate {
  family: FimFamily;
  /** Orders the family was trained on: prefix-suffix-middle, and suffix-prefix-middle where it has one. */
  modes: readonly FimMode[];
  /** The family's prompts start with the BOS token, which `Tokenizer.encode` does not add. */
  addBos: boolean;
  /** The prompt that makes the model generate the middle. */
  render(prefix: string, suffix: string, mode?: FimMode): string;
  /** Tokens that end the middle (those this tokenizer has). */
  stopTokens: string[];
}

interface FamilySpec {
  family: FimFamily;
  /** Tokens whose presence identifies the family (each entry: alternatives, one must exist). */
  markers: string[][];
  psm(prefix: string, suffix: string): string;
  spm?(prefix: string, suffix: string): string;
  addBos: boolean;
  stopCandidates: string[];
}

const FAMILIES: readonly FamilySpec[] = [
  {
    family: 'qwen',
    markers: [['<|fim_prefix|>'], ['<|fim_suffix|>'], ['<|fim_middle|>']],
    psm: (p, s) => `<|fim_prefix|>${p}<|fim_suffix|>${s}<|fim_middle|>`,
    addBos: false,
    stopCandidates: [
      '<|endoftext|>',
      '<|fim_prefix|>',
      '<|fim_suffix|>',
      '<|fim_middle|>',
      '<|fim_pad|>',
      '<|repo_name|>',
      '<|file_sep|>',
      '<|im_start|>',
      '<|im_end|>',
    ],
  },
  {
    family: 'deepseek',
    markers: [['<｜fim▁begin｜>'], ['<｜fim▁hole｜>'], ['<｜fim▁end｜>']],
    psm: (p, s) => `<｜fim▁begin｜>${p}<｜fim▁hole｜>${s}<｜fim▁end｜>`,
    addBos: true,
    stopCandidates: ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'],
  },
  {
    family: 'starcoder',
    markers: [['<fim_prefix>'], ['<fim_suffix>'], ['<fim_middle>']],
    psm: (p, s) => `<fim_prefix>${p}<fim_suffix>${s}<fim_middle>`,
    // The SPM variant StarCoder/SantaCoder were trained on: both sentinels first, the prefix after <fim_middle>.
    spm: (p, s) => `<fim_prefix><fim_suffix>${s}<fim_middle>${p}`,
    addBos: false,
    stopCandidates: ['<|endoftext|>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<fim_pad>', '<file_sep>'],
  },
  {
    family: 'codellama',
    // The sentencepiece vocabulary stores these with the word-start marker.
    markers: [
      ['<PRE>', '▁<PRE>'],
      ['<SUF>', '▁<SUF>'],
      ['<MID>', '▁<MID>'],
    ],
    psm: (p, s) => `<PRE> ${p} <SUF>${s} <MID>`,
    spm: (p, s) => `<PRE> <SUF>${s} <MID> ${p}`,
    addBos: true,
    stopCandidates: ['<EOT>', '▁<EOT>', '</s>'],
  },
];

export const FIM_FAMILIES: readonly FimFamily[] = FAMILIES.map((f) => f.family);

export interface TokenLookup {
  tokenToId(token: string): number | undefined;
}

function template(spec: FamilySpec, tok: TokenLookup): FimTemplate {
  const modes: FimMode[] = spec.spm ? ['psm', 'spm'] : ['psm'];
  return {
    family: spec.family,
    modes,
    addBos: spec.addBos,
    render(prefix, suffix, mode = 'psm') {
      if (mode === 'psm') return spec.psm(prefix, suffix);
      if (!spec.spm)
        throw new UserError(`FIM mode "${mode}" is not supported by the ${spec.family} template (supported: ${modes.join(', ')})`);
      return spec.spm(prefix, suffix);
    },
    stopTokens: spec.stopCandidates.filter((t) => tok.tokenToId(t) !== undefined),
  };
}

/** The FIM template of the first family whose sentinel tokens the tokenizer has; undefined if none. */
export function detectFimTemplate(tok: TokenLookup): FimTemplate | undefined {
  const spec = FAMILIES.find((f) => f.markers.every((alternatives) => alternatives.some((t) => tok.tokenToId(t) !== undefined)));
  return spec && template(spec, tok);
}

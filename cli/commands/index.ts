// Every subcommand by name and summary. A command's module, and the parts it imports, load only when
// it runs: a CLI start pays for one command, not for the LSP server, the trainer and the evaluator.
import type { Command } from '../command.js';

/** A subcommand as `codefudge --help` lists it; `load` imports its module. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  {
    name: 'complete',
    summary: "print the text the editor would insert at FILE:LINE:COL (fill-in-the-middle, the LSP server's clean-up)",
    load: async () => (await import('./complete.js')).command,
  },
  {
    name: 'inspect',
    summary: 'print model internals as JSON (logits, LoRA gradients) for checking against other frameworks',
    load: async () => (await import('./inspect.js')).command,
  },
  {
    name: 'bench',
    summary: 'measure inference speed (bench infer), LoRA training speed (bench lora), history reading (bench history) and more',
    load: async () => (await import('./bench.js')).command,
  },
  {
    name: 'score',
    summary: 'score generated text against expected text (exact match, chrF, BLEU, WER, IoU, edit similarity)',
    load: async () => (await import('./score.js')).command,
  },
  {
    name: 'tokenizer',
    summary: 'train the BPE tokenizer of the embedded model on a folder of Python code',
    load: async () => (await import('./tokenizer.js')).command,
  },
  {
    name: 'fim-eval',
    summary: 'score fill-in-the-middle on a folder or repository, base model against adapter',
    load: async () => (await import('./fim-eval.js')).command,
  },
  {
    name: 'history',
    summary: "turn a repository's git history into training and held-out examples (history export)",
    load: async () => (await import('./history.js')).command,
  },
  {
    name: 'serve',
    summary: 'run the LSP server over stdio, or with --http an OpenAI-compatible completion server',
    load: async () => (await import('./serve.js')).command,
  },
  {
    name: 'pretrain',
    summary: 'train a small code model from scratch (the recipe of the embedded model)',
    load: async () => (await import('./pretrain.js')).command,
  },
  {
    name: 'adapt',
    summary: 'learn a repository from its git history: train a LoRA adapter (resumable, refreshes incrementally)',
    load: async () => (await import('./adapt.js')).command,
  },
  {
    name: 'suggest-diff',
    summary: 'propose the diff a commit message asks of a file (model adapted to the repository)',
    load: async () => (await import('./suggest-diff.js')).command,
  },
  {
    name: 'export',
    summary: 'write a model or a LoRA adapter as GGUF, for llama.cpp, Ollama and LM Studio',
    load: async () => (await import('./export.js')).command,
  },
];

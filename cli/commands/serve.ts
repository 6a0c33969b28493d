import { UserError } from '../../common/index.js';
import { serveStdio } from '../../server/index.js';
import { deviceFlag, deviceOption, flagInt, parseFlags, QUANT_USAGE, quantFlag, quantOption, type OptionTable } from '../flags.js';
import type { Command } from '../command.js';
import { SERVE_HTTP, serveHttp, serveHttpUsage } from './serve-http.js';

const STDIO = {
  model: { type: 'string' },
  threads: { type: 'string' },
  ...deviceOption,
  ...quantOption,
  stdio: { type: 'boolean' },
} satisfies OptionTable;

export const command: Command = {
  name: 'serve',
  usage: `usage: codefudge serve [--model DIR] [--threads N] [--device cpu|cuda]
  An LSP server on stdin/stdout, started by the editor (clients/ has set-ups for Neovim, Helix and
  VS Code). Editors find \`codefudge\` on the PATH: run \`npm link\` in the clone once.
  --model DIR      optional: model folder or hub id (default: the embedded model; the client's "model" setting wins)
  --threads N      CPU threads for inference (default: all cores)
  --device D       cpu or cuda (cpu)
${QUANT_USAGE} (the client's "quant" setting wins)
  --stdio          accepted and ignored (editors often pass it)
Settings (initializationOptions or workspace/didChangeConfiguration, bare or under "codefudge"):
  model, adapter (folder or false), maxTokens, mode (single-line|multi-line), debounceMs,
  maxPrefixTokens, maxSuffixTokens, singleLineSuffixTokens (the suffix budget in single-line mode, default 64), temperature,
  fimMode (auto|psm|spm), stopOnLoop, reusePrefixCache, quant (int4|int8|none),
  invokedIsAutomatic (debounce Invoked requests and skip them mid-word; default: true for Helix),
  backend ({url, model, apiKey?, adapter?, tokenizer?, timeoutMs?}: an OpenAI-compatible server completes)
Commands (workspace/executeCommand):
  codefudge.status                       model, adapter, settings, last completion, request counts
  codefudge.adapt [ROOT] [{"time": "5m"}]  adapt the model to ROOT's history (work-done progress)
  codefudge.suggestDiff URI MESSAGE       the change a commit with MESSAGE would make to URI, as a WorkspaceEdit

${serveHttpUsage}`,
  options: { ...STDIO, ...SERVE_HTTP },
  async run(argv) {
    if (argv.includes('--http')) return serveHttp(argv);
    const { values, positionals } = parseFlags(argv, STDIO);
    const quant = quantFlag(values);
    if (positionals.length) throw new UserError(`serve takes no arguments, got "${positionals[0]}"`);
    await serveStdio({
      model: values.model,
      threads: flagInt(values, 'threads'),
      device: deviceFlag(values) ?? 'cpu',
      quant,
    });
    // The connection keeps the process alive; it exits on the client's exit notification or when stdin closes.
    await new Promise<never>(() => undefined);
  },
};

import type { Device } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { serveStdio } from '../../server/index.js';
import { checkFlags, flagInt, flagString, parseArgs, QUANT_USAGE, quantFlag } from '../args.js';
import type { Command } from '../command.js';
import { serveHttp, serveHttpUsage } from './serve-http.js';

export const command: Command = {
  name: 'serve',
  summary: 'run the LSP server over stdio, or with --http an OpenAI-compatible completion server',
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
  maxPrefixTokens, maxSuffixTokens, temperature, fimMode (auto|psm|spm), stopOnLoop, reusePrefixCache, quant (int4|int8|none),
  invokedIsAutomatic (debounce Invoked requests and skip them mid-word; default: true for Helix),
  backend ({url, model, apiKey?, adapter?, tokenizer?, timeoutMs?}: an OpenAI-compatible server completes)
Commands (workspace/executeCommand):
  codefudge.status                       model, adapter, settings, last completion, request counts
  codefudge.adapt [ROOT] [{"time": "5m"}]  adapt the model to ROOT's history (work-done progress)
  codefudge.suggestDiff URI MESSAGE       the change a commit with MESSAGE would make to URI, as a WorkspaceEdit

${serveHttpUsage}`,
  async run(argv) {
    if (argv.includes('--http')) return serveHttp(argv.filter((a) => a !== '--http'));
    const args = parseArgs(argv, ['stdio']);
    checkFlags(args, ['model', 'threads', 'device', 'stdio', 'quant']);
    const quant = quantFlag(args);
    if (args.positionals.length) throw new UserError(`serve takes no arguments, got "${args.positionals[0]}"`);
    const device = flagString(args, 'device', 'cpu');
    if (device !== 'cpu' && device !== 'cuda') throw new UserError(`--device must be cpu or cuda, got "${device}"`);
    await serveStdio({
      model: flagString(args, 'model'),
      threads: args.flags.has('threads') ? flagInt(args, 'threads', 1) : undefined,
      device: device as Device,
      quant,
    });
    // The connection keeps the process alive; it exits on the client's exit notification or when stdin closes.
    await new Promise<never>(() => undefined);
  },
};

import { exportAdapterToGguf, exportModelToGguf, GGUF_QUANTS, modelDirFor, type GgufQuant } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { parseFlags, type OptionTable } from '../flags.js';
import type { Command } from '../command.js';

const OPTIONS = {
  gguf: { type: 'string' },
  'gguf-adapter': { type: 'string' },
  quant: { type: 'string' },
  model: { type: 'string' },
  adapter: { type: 'string' },
} satisfies OptionTable;

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

export const command: Command = {
  name: 'export',
  usage: `usage: codefudge export --gguf OUT.gguf [--quant f32|f16|q8_0|q4_0] [--model DIR]
       codefudge export --gguf-adapter OUT.gguf --adapter DIR [--model DIR]
         (the adapter GGUF is llama.cpp's LoRA format: llama-server --lora, Ollama's ADAPTER line)`,
  options: OPTIONS,
  async run(argv) {
    const { values } = parseFlags(argv, OPTIONS);
    const model = await modelDirFor(values.model);
    const modelOut = values.gguf;
    const adapterOut = values['gguf-adapter'];
    if (!modelOut === !adapterOut) throw new UserError('export needs exactly one of --gguf OUT or --gguf-adapter OUT');
    if (adapterOut) {
      if (values.quant !== undefined) throw new UserError('--quant applies to --gguf only (adapters are written as F32)');
      const adapter = values.adapter;
      if (!adapter) throw new UserError('export --gguf-adapter needs --adapter DIR (a PEFT adapter folder)');
      const r = exportAdapterToGguf(adapter, model, adapterOut);
      process.stdout.write(`wrote ${r.file}: LoRA adapter, ${r.modules} modules\n`);
      return;
    }
    if (values.adapter !== undefined) throw new UserError('--adapter goes with --gguf-adapter; to export a merged model, merge first');
    const quant = (values.quant ?? 'f16') as GgufQuant;
    if (!GGUF_QUANTS.includes(quant)) throw new UserError(`--quant must be one of ${GGUF_QUANTS.join(', ')}, got "${quant}"`);
    const r = exportModelToGguf(model, modelOut!, quant);
    process.stdout.write(`wrote ${r.file}: ${r.tensors} tensors, ${quant}, ${mib(r.bytes)}\n`);
    if (r.placeholderTokenizer) {
      process.stderr.write(
        'note: the model folder has no tokenizer.json; the GGUF carries a placeholder byte-level vocabulary (fine for benchmarks, not for text)\n',
      );
    } else if (!r.preExact) {
      process.stderr.write(
        `note: llama.cpp has no pre-tokenizer matching this tokenizer.json; wrote "${r.pre}", so llama.cpp may split text differently (codefudge reads the stored tokenizer.json)\n`,
      );
    }
  },
};

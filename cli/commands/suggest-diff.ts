import { flagNumber, flagPositiveInt, parseFlags, QUANT_USAGE, quantFlag, quantOption, type OptionTable } from '../flags.js';
import { UserError } from '../../common/index.js';
import { suggestDiffInRepo, SUGGEST_DEFAULTS } from '../../suggest/index.js';
import type { Command } from '../command.js';
import { backendFlags, backendFromFlags, userErrors } from '../backend-flags.js';

const OPTIONS = {
  repo: { type: 'string' },
  file: { type: 'string' },
  message: { type: 'string' },
  model: { type: 'string' },
  adapter: { type: 'string' },
  'no-adapter': { type: 'boolean' },
  beams: { type: 'string' },
  'max-tokens': { type: 'string' },
  context: { type: 'string' },
  'length-penalty': { type: 'string' },
  apply: { type: 'boolean' },
  threads: { type: 'string' },
  quiet: { type: 'boolean' },
  ...quantOption,
  ...backendFlags.options,
} satisfies OptionTable;

export const command: Command = {
  name: 'suggest-diff',
  usage: `usage: codefudge suggest-diff --file PATH --message "..." [--repo DIR] [options]

Prints a unified diff (paths a/PATH and b/PATH, relative to the repository) that applies with
\`patch -p1\` to the file as it is now. Every beam the search finishes is a candidate: the best
one that applies is printed; when none applies, that is said and the exit status is 1.
  --repo DIR          the git repository (default: the current folder)
  --file PATH         the file, relative to the repository or absolute
  --message TEXT      the commit message: what the change should do
  --model DIR         base model folder or hub id (default: the embedded model)
  --adapter DIR       LoRA adapter (default: <repo>/.codefudge/adapter when there is one)
  --no-adapter        the base model alone
  --beams N           beams searched (${SUGGEST_DEFAULTS.beams})
  --max-tokens N      most tokens of diff (${SUGGEST_DEFAULTS.maxNewTokens}, at most 60% of the context)
  --context N         prompt and diff together, in tokens (default: what the adapter was trained with)
  --length-penalty L  beam scores divided by length ** L (1)
  --apply             also write the change into the file
  --threads N         inference threads
${QUANT_USAGE}
  --quiet             no notes on stderr
${backendFlags.help}
                      (suggest-diff: one greedy candidate; --model names the tokenizer; the adapter
                      is the server's, by --backend-adapter)`,
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, OPTIONS);
    if (positionals.length)
      throw new UserError(`suggest-diff takes no positional arguments (got "${positionals[0]}"); use --file and --message`);
    const file = values.file;
    if (!file) throw new UserError('suggest-diff needs --file PATH');
    if (values['no-adapter'] && values.adapter !== undefined) throw new UserError('give --adapter or --no-adapter, not both');
    const remote = backendFromFlags(values);
    if (remote && values.adapter !== undefined)
      throw new UserError("--adapter loads an adapter here; with --backend name the server's adapter with --backend-adapter");
    if (remote && (flagPositiveInt(values, 'beams') ?? 1) > 1)
      throw new UserError('--beams: a remote backend gives one greedy candidate; leave out --beams');
    const note = (line: string) => {
      if (!values.quiet) process.stderr.write(`codefudge: ${line}\n`);
    };
    const options = {
      repo: values.repo ?? '.',
      model: values.model,
      file,
      message: values.message ?? '',
      adapterDir: values['no-adapter'] ? null : values.adapter,
      beams: flagPositiveInt(values, 'beams'),
      maxNewTokens: flagPositiveInt(values, 'max-tokens'),
      contextTokens: flagPositiveInt(values, 'context'),
      lengthPenalty: flagNumber(values, 'length-penalty'),
      apply: values.apply ?? false,
      session: { threads: flagPositiveInt(values, 'threads'), quant: quantFlag(values) },
      remote,
    };
    const result = await userErrors(() => suggestDiffInRepo(options));
    const tried = result.candidates.length;
    if (!result.applied) {
      const why = result.candidates.map((c) => c.problem).filter(Boolean);
      throw new UserError(
        `no suggested diff applies to ${result.file.path} (${tried} candidate${tried === 1 ? '' : 's'}: ${why.join('; ') || 'nothing generated'})`,
      );
    }
    const { candidate } = result.applied;
    note(
      `${remote ? `backend ${remote.root}, model ${remote.opts.model}` : result.adapterDir ? `adapter ${result.adapterDir}` : 'base model, no adapter'}; candidate ${candidate.rank + 1} applied` +
        (candidate.rank > 0
          ? ` (better ones did not: ${result.candidates
              .slice(0, -1)
              .map((c) => c.problem)
              .join('; ')})`
          : '') +
        (candidate.repairs.length ? `; repaired: ${candidate.repairs.join(', ')}` : ''),
    );
    process.stdout.write(result.applied.diff);
    if (result.written) note(`wrote ${result.file.path}`);
  },
};

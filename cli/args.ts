import { parseQuantMode, type QuantMode } from '../engine/index.js';
import { UserError } from '../common/index.js';

/** Parsed command line: positionals and --flag values (a bare --flag is "true"). */
export interface Args {
  positionals: string[];
  flags: Map<string, string>;
}

/** Parses `--name value`, `--name=value` and bare boolean `--name` (when listed in `booleans`). */
export function parseArgs(argv: string[], booleans: readonly string[] = []): Args {
  const positionals: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (eq >= 0) flags.set(name, a.slice(eq + 1));
    else if (booleans.includes(name)) flags.set(name, 'true');
    else {
      if (i + 1 >= argv.length) throw new UserError(`--${name} needs a value`);
      flags.set(name, argv[++i]);
    }
  }
  return { positionals, flags };
}

export function flagString(args: Args, name: string, fallback?: string): string | undefined {
  return args.flags.get(name) ?? fallback;
}

export function flagInt(args: Args, name: string, fallback: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UserError(`--${name} must be an integer, got "${v}"`);
  return n;
}

export function flagNumber(args: Args, name: string, fallback: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UserError(`--${name} must be a number, got "${v}"`);
  return n;
}

export function flagBool(args: Args, name: string): boolean {
  return args.flags.get(name) === 'true';
}

/** Rejects flags the command does not know, so a typo is an error rather than silently ignored. */
export function checkFlags(args: Args, known: readonly string[]): void {
  for (const name of args.flags.keys()) {
    if (!known.includes(name)) throw new UserError(`unknown option --${name}`);
  }
}

/** `--quant int4|int8|none`, or undefined: the default for the model's size. */
export function quantFlag(args: Args): QuantMode | undefined {
  return parseQuantMode(args.flags.get('quant'));
}

/** The --quant line of every model-loading command's usage. */
export const QUANT_USAGE =
  '  --quant int4|int8|none   weight width: block-wise 4- or 8-bit, or float32 (default: int4 from 250M parameters, else none)';

/** `--device cpu|cuda`, or undefined for the default (cpu). */
export function deviceFlag(args: Args): 'cpu' | 'cuda' | undefined {
  const v = args.flags.get('device');
  if (v === undefined) return undefined;
  if (v !== 'cpu' && v !== 'cuda') throw new UserError(`--device must be cpu or cuda, got "${v}"`);
  return v;
}

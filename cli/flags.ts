// Command-line flags: each command declares its options once, as a node:util parseArgs table (the
// type says whether a flag takes a value, `multiple` whether it repeats); parseFlags parses argv
// against it strictly, and the readers below turn the values into numbers and choices.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseQuantMode, type QuantMode } from '../engine/index.js';
import { UserError } from '../common/index.js';

/** A command's options: `{ name: { type: 'string' | 'boolean', multiple?: true } }` for --name. */
export type OptionTable = NonNullable<ParseArgsConfig['options']>;

/** What parseFlags gives for a table: a string, a boolean, or for `multiple` a list; absent when not given. */
export type FlagValues<O extends OptionTable> = {
  [K in keyof O]?: O[K] extends { multiple: true } ? FlagType<O[K]>[] : FlagType<O[K]>;
};
type FlagType<C> = C extends { type: 'boolean' } ? boolean : string;

export interface ParsedFlags<O extends OptionTable> {
  values: FlagValues<O>;
  positionals: string[];
}

/**
 * Parses argv against the table: `--name value`, `--name=value`, bare booleans, repeats of `multiple`
 * options (others keep their last value), `--` ending the options. An unknown option, a missing
 * value or a value given to a boolean is a one-line UserError.
 */
export function parseFlags<O extends OptionTable>(argv: readonly string[], options: O): ParsedFlags<O> {
  try {
    const { values, positionals } = parseArgs({ args: negativeValuesInline(argv, options), options, strict: true, allowPositionals: true });
    return { values: values as FlagValues<O>, positionals };
  } catch (e) {
    throw flagError(e);
  }
}

/**
 * `--limit -1` as `--limit=-1`: strict parseArgs takes a value that starts with "-" for an option
 * and refuses it; a negative number after a string option is its value, so the reader can say what
 * range it must be in.
 */
function negativeValuesInline(argv: readonly string[], options: OptionTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--') ? a.slice(2) : '';
    if (Object.hasOwn(options, name) && options[name].type === 'string' && /^-\.?\d/.test(argv[i + 1] ?? '')) out.push(`${a}=${argv[++i]}`);
    else out.push(a);
  }
  return out;
}

/**
 * parseArgs' errors (codes ERR_PARSE_ARGS_*, several lines with advice) as one line; anything else
 * as it is. (ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL cannot come: each command checks its positionals.)
 */
function flagError(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return e;
  const message = (e as Error).message;
  // The option as node quotes it first: '--name', '--name <value>' or '-n, --name'.
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  const flag = quoted
    .replace(/ <value>$/, '')
    .split(', ')
    .pop()!;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UserError(`unknown option ${flag}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(message)) return new UserError(`${flag} takes no value`);
    if (/ambiguous/.test(message)) return new UserError(`${flag} needs a value (one that starts with "-" is written ${flag}=VALUE)`);
    return new UserError(`${flag} needs a value`);
  }
  return new UserError(message.split('\n')[0]);
}

/** The options of `group` that were given, in the group's order (for "--register-name needs --register URL"). */
export function givenFrom<O extends OptionTable>(values: FlagValues<O>, group: O): (keyof O & string)[] {
  return Object.keys(group).filter((n) => (values as Record<string, unknown>)[n] !== undefined);
}

/** The names of V's string-valued flags, so a reader cannot be handed a boolean's or a misspelt name. */
export type StringFlag<V> = { [K in keyof V]-?: Exclude<V[K], undefined> extends string ? K : never }[keyof V] & string;

function raw<V extends object>(values: V, name: StringFlag<V>): string | undefined {
  return (values as Record<string, string | undefined>)[name];
}

/** The flag's text as a number that passes `ok` (an empty value never does), else one line saying it must be `what`. */
function numeric(v: string | undefined, name: string, fallback: number | undefined, ok: (n: number) => boolean, what: string) {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !ok(n)) throw new UserError(`--${name} must be ${what}, got "${v}"`);
  return n;
}

/** --name as an integer: the fallback (undefined without one) when not given. */
export function flagInt<V extends object>(values: V, name: StringFlag<V>): number | undefined;
export function flagInt<V extends object>(values: V, name: StringFlag<V>, fallback: number): number;
export function flagInt<V extends object>(values: V, name: StringFlag<V>, fallback?: number): number | undefined {
  return numeric(raw(values, name), name, fallback, Number.isInteger, 'an integer');
}

/** --name as a finite number: the fallback (undefined without one) when not given. */
export function flagNumber<V extends object>(values: V, name: StringFlag<V>): number | undefined;
export function flagNumber<V extends object>(values: V, name: StringFlag<V>, fallback: number): number;
export function flagNumber<V extends object>(values: V, name: StringFlag<V>, fallback?: number): number | undefined {
  return numeric(raw(values, name), name, fallback, Number.isFinite, 'a number');
}

/** --name as an integer of 1 or more: the fallback (undefined without one) when not given. */
export function flagPositiveInt<V extends object>(values: V, name: StringFlag<V>): number | undefined;
export function flagPositiveInt<V extends object>(values: V, name: StringFlag<V>, fallback: number): number;
export function flagPositiveInt<V extends object>(values: V, name: StringFlag<V>, fallback?: number): number | undefined {
  const n = flagInt(values, name);
  if (n === undefined) return fallback;
  if (n < 1) throw new UserError(`--${name} must be a positive integer, got "${raw(values, name)}"`);
  return n;
}

/** --name as one of `choices` ("--stop must be line, block or none, got ..."): the fallback when not given. */
export function flagChoice<V extends object, C extends string>(values: V, name: StringFlag<V>, choices: readonly C[]): C | undefined;
export function flagChoice<V extends object, C extends string>(values: V, name: StringFlag<V>, choices: readonly C[], fallback: C): C;
export function flagChoice<V extends object, C extends string>(
  values: V,
  name: StringFlag<V>,
  choices: readonly C[],
  fallback?: C,
): C | undefined {
  const v = raw(values, name);
  if (v === undefined) return fallback;
  if ((choices as readonly string[]).includes(v)) return v as C;
  const list = choices.length > 1 ? `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}` : choices[0];
  throw new UserError(`--${name} must be ${list}, got "${v}"`);
}

/** --quant, for every model-loading command. */
export const quantOption = { quant: { type: 'string' } } satisfies OptionTable;

/** `--quant int4|int8|none`, or undefined: the default for the model's size. */
export function quantFlag(values: FlagValues<typeof quantOption>): QuantMode | undefined {
  return parseQuantMode(values.quant);
}

/** The --quant line of every model-loading command's usage. */
export const QUANT_USAGE =
  '  --quant int4|int8|none   weight width: block-wise 4- or 8-bit, or float32 (default: int4 from 250M parameters, else none)';

/** --device, for the commands that run a model. */
export const deviceOption = { device: { type: 'string' } } satisfies OptionTable;

/** `--device cpu|cuda`, or undefined for the default (cpu). */
export function deviceFlag(values: FlagValues<typeof deviceOption>): 'cpu' | 'cuda' | undefined {
  return flagChoice(values, 'device', ['cpu', 'cuda']);
}

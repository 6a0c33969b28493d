import type { OptionTable } from './flags.js';

/** One `codefudge <name>` subcommand. Commands parse their own arguments and call into the parts. */
export interface Command {
  name: string;
  usage: string;
  /** Every option the command takes (its subcommands' together); the usage documents each. */
  options: OptionTable;
  run(argv: string[]): Promise<void>;
}

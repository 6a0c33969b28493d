/** One `codefudge <name>` subcommand. Commands parse their own arguments and call into the parts. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<void>;
}

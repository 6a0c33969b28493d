import { UserError } from '../common/index.js';
import { commands, type CommandEntry } from './commands/index.js';

function usage(list: CommandEntry[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return ['usage: codefudge <command> [options]', '', ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage(commands) + '\n');
    return;
  }
  const entry = commands.find((c) => c.name === name);
  try {
    if (!entry) throw new UserError(`unknown command "${name}" (try: codefudge --help)`);
    const cmd = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(cmd.usage + '\n');
      return;
    }
    await cmd.run(rest);
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`codefudge: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}

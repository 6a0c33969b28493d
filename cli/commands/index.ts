import type { Command } from '../command.js';

// One line per subcommand module; each module exports `command`.
export const commands: Command[] = [
];

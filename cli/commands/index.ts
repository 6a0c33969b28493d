import type { Command } from '../command.js';
import { command as score } from './score.js';

// One line per subcommand module; each module exports `command`.
export const commands: Command[] = [
  score,
];

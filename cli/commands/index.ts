import type { Command } from '../command.js';
import { command as score } from './score.js';
import { command as complete } from './complete.js';
import { command as inspect } from './inspect.js';
import { command as bench } from './bench.js';
import { command as tokenizer } from './tokenizer.js';
import { command as fimEval } from './fim-eval.js';
import { command as history } from './history.js';
import { command as serve } from './serve.js';
import { command as pretrain } from './pretrain.js';
import { command as adapt } from './adapt.js';
import { command as suggestDiff } from './suggest-diff.js';
import { command as exportCommand } from './export.js';

// One line per subcommand module; each module exports `command`.
export const commands: Command[] = [
  complete,
  inspect,
  bench,
  score,
  tokenizer,
  fimEval,
  history,
  serve,
  pretrain,
  adapt,
  suggestDiff,
  exportCommand,
];

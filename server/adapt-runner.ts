// `codefudge.adapt`: runs `codefudge adapt <root>` as a child process and turns the progress lines
// it prints into work-done progress. A child process keeps the server answering while it trains,
// and a crash in training cannot take the server down.
import { spawn } from 'node:child_process';
import { cliPath } from '../common/index.js';

export interface AdaptProgress {
  message: string;
  /** 0..100 when the line says how far along it is. */
  percentage?: number;
}

export interface AdaptRequest {
  /** The repository to adapt to. */
  root: string;
  /** The base model folder the adapter is for (the one the server completes with). */
  model?: string;
  /** More `codefudge adapt` flags, e.g. ["--time", "5m"]. */
  flags?: string[];
}

/**
 * `codefudge.adapt`'s optional second argument, {"time": "5m", "rank": 4, "from-scratch": true},
 * as command-line flags; throws a one-line reason for anything else.
 */
export function adaptFlags(options: unknown): string[] {
  if (options === undefined || options === null) return [];
  if (typeof options !== 'object' || Array.isArray(options))
    throw new Error('the options argument must be an object of codefudge adapt flags');
  const flags: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (!/^[a-z][a-z-]*$/.test(name) || name === 'model') throw new Error(`"${name}" is not an adapt flag this command passes on`);
    if (value === true) flags.push(`--${name}`);
    else if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) flags.push(`--${name}`, String(value));
    else throw new Error(`adapt flag "${name}" must be a string, a number or true`);
  }
  return flags;
}

/** Runs adaptation, reporting progress; rejects with the reason it failed. */
export type AdaptRunner = (request: AdaptRequest, report: (p: AdaptProgress) => void, signal: AbortSignal) => Promise<void>;

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const MAX_MESSAGE = 200;

/**
 * The phases `codefudge adapt` prints progress bars for ("history [###---] 40/120 ..." then
 * "training [#-----] 12/300 ..."), as shares of the whole run, so the overall percentage only rises.
 */
const PHASES: Record<string, [number, number]> = { history: [0, 10], training: [10, 100] };

/** The progress a printed line carries: "42%" or "step 12/300"; undefined for a blank line. */
export function parseProgressLine(line: string): AdaptProgress | undefined {
  const message = line.replace(ANSI, '').trim().slice(0, MAX_MESSAGE);
  if (!message) return undefined;
  const percent = /(\d+(?:\.\d+)?)\s*%/.exec(message);
  if (percent) return { message, percentage: Math.min(100, Number(percent[1])) };
  const fraction = /\b(\d+)\s*\/\s*(\d+)\b/.exec(message);
  if (fraction && Number(fraction[2]) > 0) {
    const share = Math.min(1, Number(fraction[1]) / Number(fraction[2]));
    const [from, to] = PHASES[/^(\w+) \[/.exec(message)?.[1] ?? ''] ?? [0, 100];
    return { message, percentage: from + share * (to - from) };
  }
  return { message };
}

/**
 * The one line that says why a `codefudge adapt` child failed, from its stderr lines: its own
 * "codefudge: ..." message, else the "Error: ..." line of an uncaught exception (Node prints the
 * stack after it and "Node.js v20..." last, which says nothing), else the last line.
 */
export function failureLine(stderrLines: readonly string[]): string {
  const own = [...stderrLines].reverse().find((l) => /^codefudge: /.test(l));
  if (own) return own;
  const thrown = stderrLines.find((l) => /^(?:[A-Z]\w*)?Error(?: \[[\w-]+\])?: /.test(l) || /^Uncaught /.test(l));
  if (thrown) return thrown;
  const useful = stderrLines.filter((l) => !/^Node\.js v\d/.test(l) && !/^\s*at /.test(l) && !/^\s*\^+\s*$/.test(l) && l.trim() !== '');
  return useful[useful.length - 1] ?? '';
}

/** Calls `onLine` for each line of a byte stream; progress bars redraw with \r, so \r ends a line too. */
function lineSplitter(onLine: (line: string) => void) {
  let partial = '';
  return {
    push: (chunk: string) => {
      const parts = (partial + chunk).split(/[\r\n]+/);
      partial = parts.pop() ?? '';
      for (const line of parts) onLine(line);
    },
    flush: () => {
      if (partial) onLine(partial);
      partial = '';
    },
  };
}

/** A runner that spawns `node <command...> <root> [--model DIR]` (by default `codefudge adapt`). */
export function commandAdaptRunner(command: string[] = [cliPath(), 'adapt']): AdaptRunner {
  return ({ root, model, flags = [] }, report, signal) =>
    new Promise((resolve, reject) => {
      const args = [...command, root, ...(model ? ['--model', model] : []), ...flags];
      const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      // The reason of a failure comes from stderr (stdout and stderr interleave unpredictably).
      let lastLine = '';
      const errorLines: string[] = [];
      const onLine = (isError: boolean) => (line: string) => {
        const p = parseProgressLine(line);
        if (!p) return;
        lastLine = p.message;
        if (isError) {
          errorLines.push(p.message);
          // A stack trace is not progress: keep it out of the editor's progress line.
          if (/^\s*at |^Node\.js v\d/.test(line)) return;
        }
        report(p);
      };
      const outLines = lineSplitter(onLine(false));
      const errLines = lineSplitter(onLine(true));
      // Decoded by the streams, so a character split between two chunks stays whole.
      child.stdout.setEncoding('utf8').on('data', outLines.push);
      child.stderr.setEncoding('utf8').on('data', errLines.push);
      const abort = () => child.kill('SIGTERM');
      signal.addEventListener('abort', abort, { once: true });
      child.on('error', (e) => {
        signal.removeEventListener('abort', abort);
        reject(new Error(`cannot start codefudge adapt: ${e.message}`));
      });
      child.on('close', (code, sig) => {
        outLines.flush();
        errLines.flush();
        signal.removeEventListener('abort', abort);
        if (signal.aborted) reject(new Error('codefudge adapt was cancelled'));
        else if (code === 0) resolve();
        else {
          const reason = failureLine(errorLines) || lastLine;
          reject(new Error(`codefudge adapt failed (${sig ?? `exit ${code}`})${reason ? `: ${reason}` : ''}`));
        }
      });
    });
}

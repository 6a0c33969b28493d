// `codefudge.adapt`: one adaptation at a time, in a child process, with work-done progress (the
// client's token, or one the server creates) and cancellation.
import { fileURLToPath } from 'node:url';
import {
  ErrorCodes,
  ResponseError,
  type CancellationToken,
  type Connection,
  type WorkDoneProgressReporter,
  type WorkDoneProgressServerReporter,
} from 'vscode-languageserver/node';
import { adaptFlags, type AdaptRunner } from './adapt-runner.js';
import { workspaceAdapterDir } from './adapter-watch.js';
import { cancelled } from './completion-requests.js';

export interface AdaptCommandOptions {
  connection: Connection;
  runner: AdaptRunner;
  /** The workspace root (the default target). */
  root: () => string | undefined;
  /** The base model folder the adapter is for. */
  modelDir: () => string | undefined;
  canCreateProgress: () => boolean;
  /** Called when an adaptation finished (the adapter watch looks at once). */
  finished: () => void;
  showError: (message: string) => void;
}

export class AdaptCommand {
  running = false;

  constructor(private readonly opts: AdaptCommandOptions) {}

  async run(args: unknown[] | undefined, token: CancellationToken, workDone: WorkDoneProgressReporter, clientToken: boolean) {
    const { connection } = this.opts;
    const arg = args?.[0];
    const target = typeof arg === 'string' ? (arg.startsWith('file:') ? fileURLToPath(arg) : arg) : this.opts.root();
    if (!target)
      throw new ResponseError(ErrorCodes.InvalidParams, 'codefudge.adapt: no workspace folder to adapt (pass its path as the argument)');
    let flags: string[];
    try {
      flags = adaptFlags(args?.[1]);
    } catch (e) {
      throw new ResponseError(ErrorCodes.InvalidParams, `codefudge.adapt: ${(e as Error).message}`);
    }
    if (this.running) throw new ResponseError(ErrorCodes.InvalidRequest, 'codefudge.adapt: an adaptation is already running');
    this.running = true;
    let progress: WorkDoneProgressReporter | WorkDoneProgressServerReporter = workDone;
    if (!clientToken && this.opts.canCreateProgress()) progress = await connection.window.createWorkDoneProgress().catch(() => workDone);
    const abort = new AbortController();
    const subscriptions = [token.onCancellationRequested(() => abort.abort())];
    if ('token' in progress) subscriptions.push(progress.token.onCancellationRequested(() => abort.abort()));
    progress.begin('codefudge adapt', 0, `adapting to ${target}`, true);
    try {
      await this.opts.runner(
        { root: target, model: this.opts.modelDir(), flags },
        (p) => {
          connection.console.log(`adapt: ${p.message}`);
          if (p.percentage === undefined) progress.report(p.message);
          else progress.report(Math.round(p.percentage), p.message);
        },
        abort.signal,
      );
      this.opts.finished();
      connection.console.info(`adapt: finished for ${target}`);
      return { ok: true, root: target, adapter: workspaceAdapterDir(target) };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      connection.console.error(`adapt: ${message}`);
      if (abort.signal.aborted) throw cancelled();
      this.opts.showError(`codefudge: ${message}`);
      throw new ResponseError(ErrorCodes.InternalError, message);
    } finally {
      progress.done();
      for (const s of subscriptions) s.dispose();
      this.running = false;
    }
  }
}

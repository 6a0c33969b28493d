// The LSP server's public surface: the CLI's `serve` and the benchmark start it through here.
// The LSP server itself (vscode-languageserver, about half of the CLI's start-up) is imported only
// when `serve` runs it, so `complete`, `fim-eval` and the other commands do not pay for it.
import { format } from 'node:util';
import type { Connection } from 'vscode-languageserver/node';
import type { ServerOptions } from './server.js';

export type { ServerOptions } from './server.js';
export { DEFAULT_SETTINGS, mergeSettings } from './settings.js';
export type { Settings, CompletionMode } from './settings.js';
export { postprocess, effectiveMode, stopAtFor } from './postprocess.js';
export type { CompletionContext } from './postprocess.js';
export { promptWindow, textView, fitBudget } from './context-window.js';
export type { PromptWindow, TextView, WindowBudget } from './context-window.js';
export { autoCompletionWanted } from './trigger.js';
export { CompletionCache } from './completion-cache.js';
export { workspaceAdapterDir, adapterStamp } from './adapter-watch.js';
export { parseProgressLine, commandAdaptRunner } from './adapt-runner.js';
export type { AdaptRunner, AdaptProgress, AdaptRequest } from './adapt-runner.js';

/** stdout carries the protocol: anything a library prints goes to stderr instead. */
function routeConsoleToStderr(): void {
  const toStderr = (...args: unknown[]) => {
    process.stderr.write(format(...args) + '\n');
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
  console.trace = toStderr;
}

/** Serves LSP over this process's stdin/stdout until the client exits or closes stdin. */
export async function serveStdio(opts: Omit<ServerOptions, 'input' | 'output'>): Promise<Connection> {
  routeConsoleToStderr();
  const { startServer } = await import('./server.js');
  const connection = startServer({ ...opts, input: process.stdin, output: process.stdout });
  // One bad request must never take the server down: log and carry on.
  process.on('uncaughtException', (e) => connection.console.error(`internal error: ${e.stack ?? e.message}`));
  process.on('unhandledRejection', (e) =>
    connection.console.error(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
  );
  process.stdin.on('end', () => process.exit(0));
  return connection;
}
export { CompletionService } from './completion-service.js';
export type { CompletionInput, Completion, CompletionServiceOptions } from './completion-service.js';
export { localGenerator, resolveFimMode } from './generator.js';
export type { Generator, GenerationRequest, Generation } from './generator.js';

// Beyond one machine: the OpenAI-compatible HTTP server and the client for remote backends.
export { startHttpServer } from './http/http-server.js';
export type { HttpServerOptions, RunningHttpServer } from './http/http-server.js';
export { DEFAULT_LIMITS } from './http/completion-request.js';
export type { Limits } from './http/completion-request.js';
export { BackendError } from './backend/completion-backend.js';
export type { CompletionBackend, BackendRequest, BackendResult } from './backend/completion-backend.js';
export { LocalBackend } from './backend/local-backend.js';
export { OpenAiBackend, serverRoot } from './backend/openai-client.js';
export type { OpenAiBackendOptions } from './backend/openai-client.js';
export { adapterNameFor } from './backend/adapter-name.js';
export { RemoteCompleter, cutAtLoop } from './backend/remote-completer.js';
export { openRemoteCompleter } from './backend/open-remote.js';
export { checkBackendSetting } from './backend/backend-setting.js';
export type { BackendSetting } from './backend/backend-setting.js';
export { registerAdapter, checkRegisterTarget } from './backend/register-adapter.js';

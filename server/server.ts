// `codefudge serve`: the LSP connection, its capabilities and its handlers. Requests are validated
// here and handed to the parts beside this file: the completion service (completion-service.ts)
// behind the request scheduling (completion-requests.ts), the open documents (documents.ts), the
// workspace's settings and adapter (workspace.ts), the model (model-host.ts) and the commands.
import {
  CompletionRequest,
  CompletionTriggerKind,
  createConnection,
  ErrorCodes,
  ExecuteCommandRequest,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  MessageType,
  ResponseError,
  ShowMessageNotification,
  TextDocumentSyncKind,
  type CancellationToken,
  type CompletionList,
  type Connection,
  type InitializeResult,
  type InlineCompletionList,
  type Position,
} from 'vscode-languageserver/node';
import type { Completer, Device, QuantMode } from '../engine/index.js';
import { AdaptCommand } from './adapt-command.js';
import { commandAdaptRunner, type AdaptRunner } from './adapt-runner.js';
import { CompletionRequests, type SuggestResult } from './completion-requests.js';
import { CompletionService } from './completion-service.js';
import { DocumentStore, isPosition } from './documents.js';
import { localGenerator, type Generator } from './generator.js';
import { completionItem, inlineCompletionItem } from './items.js';
import { ModelHost } from './model-host.js';
import { Mutex } from './request-queue.js';
import { SUGGEST_DIFF, suggestDiffCommand } from './suggest-diff-command.js';
import { guardedTransport } from './transport.js';
import { Workspace, workspaceRoot } from './workspace.js';
import { RemoteHost } from './backend/remote-host.js';
import type { RemoteCompleter } from './backend/remote-completer.js';

export const COMMANDS = { status: 'codefudge.status', adapt: 'codefudge.adapt', suggestDiff: SUGGEST_DIFF } as const;

export interface ServerOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** `--model`: used unless the client's settings name a model. */
  model?: string;
  threads?: number;
  device?: Device;
  /** `--quant`: used unless the client's settings give `quant`. */
  quant?: QuantMode;
  /** How `codefudge.adapt` adapts (default: `codefudge adapt <root>` in a child process). */
  adaptRunner?: AdaptRunner;
  /** How often the workspace adapter folder is looked at. */
  adapterPollMs?: number;
}

function textDocumentPosition(params: unknown, method: string): { uri: string; position: Position } {
  const p = params as { textDocument?: { uri?: unknown }; position?: unknown } | null | undefined;
  if (typeof p !== 'object' || p === null) throw new ResponseError(ErrorCodes.InvalidParams, `${method}: params must be an object`);
  if (typeof p.textDocument?.uri !== 'string')
    throw new ResponseError(ErrorCodes.InvalidParams, `${method}: textDocument.uri must be a string`);
  if (!isPosition(p.position))
    throw new ResponseError(ErrorCodes.InvalidParams, `${method}: position must be {line, character} with non-negative integers`);
  return { uri: p.textDocument.uri, position: p.position };
}

const triggerKind = (params: unknown): unknown => (params as { context?: { triggerKind?: unknown } }).context?.triggerKind;

/** Starts serving LSP on the given streams; returns the connection (already listening). */
export function startServer(opts: ServerOptions): Connection {
  let logLine: (line: string) => void = (line) => process.stderr.write(`codefudge: ${line}\n`);
  const transport = guardedTransport(opts.input, opts.output, (line) => logLine(line));
  const connection = createConnection(transport.reader, transport.writer);
  logLine = (line) => connection.console.warn(line);
  const mutex = new Mutex();
  // A notification, not window/showMessageRequest: nothing to answer, and every client shows it.
  const show = (type: MessageType, message: string) => void connection.sendNotification(ShowMessageNotification.type, { type, message });
  const showError = (message: string) => show(MessageType.Error, message);
  const host = new ModelHost({
    threads: opts.threads,
    device: opts.device,
    mutex,
    log: (m) => connection.console.info(m),
    onFailure: (m) => {
      connection.console.error(m);
      showError(m);
    },
  });
  // The `backend` setting: a remote server completes, with the prompt and post-processing from here.
  const remote = new RemoteHost({
    log: (m) => connection.console.info(m),
    onFailure: (m) => {
      connection.console.error(m);
      showError(m);
    },
  });
  const useModel = () => {
    const s = workspace.settings;
    remote.use(s.backend, s.model ?? opts.model);
    if (!s.backend) host.use(s.model ?? opts.model, s.quant ?? opts.quant);
  };
  const documents = new DocumentStore(
    (line) => connection.console.warn(line),
    (uri) => requests.forget(uri),
  );
  const workspace = new Workspace({
    log: { info: (l) => connection.console.info(l), warn: (l) => connection.console.warn(l) },
    setAdapter: (dir, stamp) => void host.setAdapter(dir, stamp),
    changed: (changed) => {
      if (changed.includes('model') || changed.includes('quant') || changed.includes('backend')) useModel();
      for (const doc of documents.all()) requests.forget(doc.uri);
    },
    adapterPollMs: opts.adapterPollMs,
  });
  // One generator per loaded model: it remembers token counts of the lines it has measured.
  const generators = new WeakMap<Completer | RemoteCompleter, Generator>();
  const service = new CompletionService({
    settings: () => workspace.settings,
    generator: async () => {
      const completer = workspace.settings.backend ? await remote.completer() : await host.completer();
      if (!completer) return undefined;
      let g = generators.get(completer);
      if (!g) generators.set(completer, (g = localGenerator(completer, (l) => connection.console.warn(l))));
      return g;
    },
  });
  const requests = new CompletionRequests({
    documents,
    service,
    mutex,
    settings: () => workspace.settings,
    log: (l) => connection.console.log(l),
    error: (l) => connection.console.error(l),
  });
  let canPullConfiguration = false;
  let canCreateProgress = false;
  let clientName = '';
  const adapt = new AdaptCommand({
    connection,
    runner: opts.adaptRunner ?? commandAdaptRunner(),
    root: () => workspace.root,
    modelDir: () => host.status().dir ?? undefined,
    canCreateProgress: () => canCreateProgress,
    finished: () => workspace.checkAdapter(),
    showError,
  });

  /**
   * Whether a request is automatic (debounced, skipped mid-word). Helix sends its automatic
   * completions as Invoked, indistinguishable from Ctrl-x: for it (or when the setting says so)
   * Invoked counts as automatic too.
   */
  function isAutomatic(kind: unknown, automaticKinds: unknown[]): boolean {
    if (automaticKinds.includes(kind)) return true;
    return kind === CompletionTriggerKind.Invoked && (workspace.settings.invokedIsAutomatic ?? clientName === 'helix');
  }

  /** An explicit request that found nothing says so, in one short line. */
  function tell(s: SuggestResult, position: Position): void {
    if (s.kind === 'none' && s.tell)
      show(MessageType.Info, `codefudge: no suggestion at ${position.line + 1}:${position.character + 1} (${s.why})`);
  }

  function status() {
    return {
      model: host.status(),
      backend: remote.status(),
      workspace: workspace.root ?? null,
      settings: workspace.settings,
      ...requests.status(),
      adapting: adapt.running,
    };
  }

  connection.onInitialize((params): InitializeResult => {
    workspace.root = workspaceRoot(params);
    canPullConfiguration = params.capabilities?.workspace?.configuration === true;
    canCreateProgress = params.capabilities?.window?.workDoneProgress === true;
    clientName = typeof params.clientInfo?.name === 'string' ? params.clientInfo.name.toLowerCase() : '';
    workspace.apply(params.initializationOptions ?? {}, 'initializationOptions');
    useModel();
    workspace.refreshAdapter();
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        completionProvider: { resolveProvider: false, triggerCharacters: ['.', '(', '[', '{', ',', ':', '=', ' '] },
        inlineCompletionProvider: true,
        executeCommandProvider: { commands: Object.values(COMMANDS) },
      },
      serverInfo: { name: 'codefudge', version: '0.1.0' },
    };
  });

  connection.onDidChangeConfiguration(async (params) => {
    let raw: unknown = params?.settings;
    const empty = raw === null || raw === undefined || (typeof raw === 'object' && Object.keys(raw as object).length === 0);
    if (empty && canPullConfiguration) raw = await connection.workspace.getConfiguration('codefudge').catch(() => undefined);
    if (raw !== null && raw !== undefined) workspace.apply(raw, 'workspace/didChangeConfiguration');
  });

  // Registered on the requests themselves: the typed wrappers (onCompletion, languages.inlineCompletion.on)
  // read params before a handler could check them, so `params: null` would be an internal error (-32603).
  connection.onRequest(CompletionRequest.method, async (params: unknown, token: CancellationToken): Promise<CompletionList> => {
    const { uri, position } = textDocumentPosition(params, CompletionRequest.method);
    const automatic = isAutomatic(triggerKind(params), [
      CompletionTriggerKind.TriggerCharacter,
      CompletionTriggerKind.TriggerForIncompleteCompletions,
    ]);
    const s = await requests.suggest(uri, position, automatic, token);
    tell(s, position);
    return { isIncomplete: true, items: s.kind === 'text' ? [completionItem(s.text, position, s.languageId, s.lineBefore)] : [] };
  });

  connection.onRequest(
    InlineCompletionRequest.method,
    async (params: unknown, token: CancellationToken): Promise<InlineCompletionList | null> => {
      const { uri, position } = textDocumentPosition(params, InlineCompletionRequest.method);
      const automatic = triggerKind(params) === InlineCompletionTriggerKind.Automatic;
      const s = await requests.suggest(uri, position, automatic, token);
      tell(s, position);
      return s.kind === 'text' ? { items: [inlineCompletionItem(s.text, position)] } : null;
    },
  );

  // Registered on the request itself: onExecuteCommand's wrapper deletes the client's workDoneToken
  // before the handler could see whether there was one.
  connection.onRequest(ExecuteCommandRequest.type, async (params, token) => {
    if (params?.command === COMMANDS.status) return status();
    if (params?.command === COMMANDS.suggestDiff) {
      return suggestDiffCommand(
        params.arguments,
        {
          completer: () => host.completer(),
          exclusive: (t) => mutex.run(t),
          openText: (uri) => documents.get(uri)?.getText(),
          root: workspace.root,
          log: (l) => connection.console.log(l),
        },
        token,
      );
    }
    if (params?.command === COMMANDS.adapt) {
      const clientToken = params.workDoneToken !== undefined;
      return adapt.run(params.arguments, token, connection.window.attachWorkDoneProgress(params.workDoneToken), clientToken);
    }
    throw new ResponseError(
      ErrorCodes.InvalidParams,
      `unknown command "${params?.command}" (known: ${Object.values(COMMANDS).join(', ')})`,
    );
  });

  connection.onShutdown(async () => {
    workspace.stop();
    await host.release();
  });
  documents.listen(connection);
  connection.listen();
  return connection;
}

// `codefudge serve`: the LSP connection and its handlers. The logic lives in the files beside this
// one; here requests are validated, scheduled, answered and logged.
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CompletionTriggerKind, createConnection, ErrorCodes, ExecuteCommandRequest, InlineCompletionTriggerKind, LSPErrorCodes, MessageType, ResponseError,
  ShowMessageNotification, TextDocuments, TextDocumentSyncKind,
  type CancellationToken, type CompletionList, type Connection, type InitializeParams, type InitializeResult,
  type InlineCompletionList, type Position, type WorkDoneProgressReporter, type WorkDoneProgressServerReporter,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Completer, Device } from '../engine/index.js';
import { adaptFlags, commandAdaptRunner, type AdaptRunner } from './adapt-runner.js';
import { watchAdapter, workspaceAdapterDir, type AdapterWatch } from './adapter-watch.js';
import { CompletionCache } from './completion-cache.js';
import { fitBudget, promptWindow, type TextView } from './context-window.js';
import { completionItem, inlineCompletionItem } from './items.js';
import { ModelHost } from './model-host.js';
import { postprocess, stopAtFor, type CompletionContext } from './postprocess.js';
import { delay, LatestPerDocument, Mutex, type Ticket } from './request-queue.js';
import { DEFAULT_SETTINGS, mergeSettings, type Settings } from './settings.js';
import { neutralizeSpecialTokens } from './special-tokens.js';
import { SUGGEST_DIFF, suggestDiffCommand } from './suggest-diff-command.js';
import { memoTokenCounter, type TokenCounter } from './token-counter.js';
import { guardedTransport } from './transport.js';
import { autoCompletionWanted } from './trigger.js';
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
  /** How `codefudge.adapt` adapts (default: `codefudge adapt <root>` in a child process). */
  adaptRunner?: AdaptRunner;
  /** How often the workspace adapter folder is looked at. */
  adapterPollMs?: number;
}

/** What the last completion cost (codefudge.status). */
interface LastCompletion {
  source: 'model' | 'cache';
  milliseconds: number;
  promptTokens?: number;
  reusedTokens?: number;
  generatedTokens?: number;
  reason?: string;
}

interface Suggestion {
  text: string;
  lineBefore: string;
  languageId: string;
}

/** Raised inside a request whose client cancelled it. */
const cancelled = () => new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');

function isPosition(p: unknown): p is Position {
  const o = p as Position | undefined;
  return typeof o === 'object' && o !== null && Number.isInteger(o.line) && Number.isInteger(o.character) && o.line >= 0 && o.character >= 0;
}

function textDocumentPosition(params: unknown, method: string): { uri: string; position: Position } {
  const p = params as { textDocument?: { uri?: unknown }; position?: unknown } | undefined;
  if (typeof p?.textDocument?.uri !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, `${method}: textDocument.uri must be a string`);
  if (!isPosition(p.position)) throw new ResponseError(ErrorCodes.InvalidParams, `${method}: position must be {line, character} with non-negative integers`);
  return { uri: p.textDocument.uri, position: p.position };
}

function workspaceRoot(params: InitializeParams): string | undefined {
  const uri = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
  if (uri?.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      return undefined;
    }
  }
  return params.rootPath ?? undefined;
}

function documentView(doc: TextDocument, text: string): TextView {
  return { text, lineCount: doc.lineCount, lineStart: (line) => doc.offsetAt({ line, character: 0 }) };
}

/** Starts serving LSP on the given streams; returns the connection (already listening). */
export function startServer(opts: ServerOptions): Connection {
  let logLine: (line: string) => void = (line) => process.stderr.write(`codefudge: ${line}\n`);
  const transport = guardedTransport(opts.input, opts.output, (line) => logLine(line));
  const connection = createConnection(transport.reader, transport.writer);
  logLine = (line) => connection.console.warn(line);
  const documents = new TextDocuments(TextDocument);
  const mutex = new Mutex();
  const latest = new LatestPerDocument();
  const cache = new CompletionCache();
  const adaptRunner = opts.adaptRunner ?? commandAdaptRunner();
  const counters = new WeakMap<Completer | RemoteCompleter, TokenCounter>();
  // A notification, not window/showMessageRequest: nothing to answer, and every client shows it.
  const showError = (message: string) => void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message });
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
  const remote = new RemoteHost({ log: (m) => connection.console.info(m), onFailure: (m) => { connection.console.error(m); showError(m); } });
  const useModel = () => {
    remote.use(settings.backend, settings.model ?? opts.model);
    if (!settings.backend) host.use(settings.model ?? opts.model);
  };
  let settings: Settings = { ...DEFAULT_SETTINGS };
  let root: string | undefined;
  let canPullConfiguration = false;
  let canCreateProgress = false;
  let adapterWatch: AdapterWatch | undefined;
  let adapting = false;
  let last: LastCompletion | undefined;
  let warnedFimMode = false;
  const counts = { completions: 0, cancelled: 0, failed: 0 };

  function refreshAdapter(): void {
    adapterWatch?.stop();
    adapterWatch = undefined;
    const setting = settings.adapter;
    if (setting === false || (setting === undefined && !root)) {
      void host.setAdapter(undefined);
      return;
    }
    const dir = setting === undefined ? workspaceAdapterDir(root!) : isAbsolute(setting) ? setting : resolvePath(root ?? process.cwd(), setting);
    adapterWatch = watchAdapter(dir, (stamp) => {
      if (!stamp && setting !== undefined) connection.console.warn(`adapter folder ${dir} has no adapter_config.json and adapter_model.safetensors`);
      void host.setAdapter(stamp ? dir : undefined, stamp);
    }, opts.adapterPollMs);
  }

  function applySettings(raw: unknown, source: string): void {
    const merged = mergeSettings(settings, raw);
    for (const p of merged.problems) connection.console.warn(`${source}: ${p}`);
    settings = merged.settings;
    if (merged.changed.length === 0) return;
    connection.console.info(`${source}: ${merged.changed.map((k) => `${k}=${JSON.stringify(settings[k])}`).join(', ')}`);
    if (merged.changed.includes('model') || merged.changed.includes('backend')) useModel();
    if (merged.changed.includes('adapter')) refreshAdapter();
    for (const doc of documents.all()) cache.forget(doc.uri);
  }

  function tokenCounter(completer: Completer | RemoteCompleter): TokenCounter {
    let count = counters.get(completer);
    if (!count) counters.set(completer, (count = memoTokenCounter((t) => completer.tokenizer.encode(t))));
    return count;
  }

  /** Runs the model for the text around `offset`; undefined when the ticket was stopped. */
  async function generate(completer: Completer | RemoteCompleter, doc: TextDocument, text: string, position: Position, offset: number, ticket: Ticket) {
    const budget = fitBudget(settings, completer.folder.config.maxPositionEmbeddings, settings.maxTokens);
    const window = promptWindow(documentView(doc, text), { offset, line: position.line }, budget, tokenCounter(completer));
    const ctx: CompletionContext = { prefix: window.prefix, suffix: window.suffix, mode: settings.mode, languageId: doc.languageId };
    const special = completer.tokenizer.specialTokens;
    const asked = settings.fimMode === 'auto' ? completer.preferredFimMode : settings.fimMode;
    const fimMode = completer.template.modes.includes(asked) ? asked : 'psm';
    if (fimMode !== asked && !warnedFimMode) {
      warnedFimMode = true;
      connection.console.warn(`fimMode "${settings.fimMode}": the ${completer.template.family} template has only ${completer.template.modes.join(', ')}; using psm`);
    }
    const result = await completer.complete({
      prefix: neutralizeSpecialTokens(window.prefix, special),
      suffix: neutralizeSpecialTokens(window.suffix, special),
      // The window already fits the budgets; the completer must not cut it again (that would move its start).
      maxPrefixTokens: Number.MAX_SAFE_INTEGER,
      maxSuffixTokens: Number.MAX_SAFE_INTEGER,
      maxNewTokens: settings.maxTokens,
      temperature: settings.temperature,
      stopAt: stopAtFor(ctx),
      stopOnLoop: settings.stopOnLoop,
      signal: ticket.signal,
      reuseCache: settings.reusePrefixCache,
      fimMode,
    });
    return { result, text: postprocess(result.text, ctx) };
  }

  /**
   * The completion at `position`, or undefined when there is none: no document, a position outside
   * it, an automatic request where none is wanted, a superseded request, or no model.
   * Throws RequestCancelled when the client cancelled the request.
   */
  async function suggest(uri: string, position: Position, automatic: boolean, token: CancellationToken): Promise<Suggestion | undefined> {
    const t0 = performance.now();
    const doc = documents.get(uri);
    if (!doc) return undefined;
    if (position.line >= doc.lineCount) return undefined;
    const text = doc.getText();
    const lineStart = doc.offsetAt({ line: position.line, character: 0 });
    const lineEnd = position.line + 1 < doc.lineCount ? doc.offsetAt({ line: position.line + 1, character: 0 }) : text.length;
    const line = text.slice(lineStart, lineEnd).replace(/(\r\n|\r|\n)$/, '');
    if (position.character > line.length) return undefined;
    const offset = lineStart + position.character;
    const lineBefore = line.slice(0, position.character);
    if (automatic && !autoCompletionWanted(lineBefore, line.slice(position.character))) return undefined;

    const ticket = latest.begin(uri);
    const onCancel = token.onCancellationRequested(() => ticket.cancel());
    const stop = () => {
      if (ticket.cancelled) {
        counts.cancelled++;
        throw cancelled();
      }
      return undefined;
    };
    try {
      const remembered = cache.lookup(uri, text, offset);
      if (remembered !== undefined) {
        last = { source: 'cache', milliseconds: performance.now() - t0 };
        counts.completions++;
        return { text: remembered, lineBefore, languageId: doc.languageId };
      }
      if (automatic) await delay(settings.debounceMs, ticket.signal);
      if (ticket.stopped) return stop();
      const completer = settings.backend ? await remote.completer() : await host.completer();
      if (!completer) return undefined;
      const out = await mutex.run(() => (ticket.stopped ? Promise.resolve(undefined) : generate(completer, doc, text, position, offset, ticket)));
      if (!out || out.result.reason === 'aborted' || ticket.stopped) return stop();
      const { result } = out;
      const ms = performance.now() - t0;
      last = {
        source: 'model', milliseconds: ms, promptTokens: result.promptTokens, reusedTokens: result.reusedTokens,
        generatedTokens: result.ids.length, reason: result.reason,
      };
      counts.completions++;
      connection.console.log(
        `completion ${uri.slice(uri.lastIndexOf('/') + 1)}:${position.line + 1}:${position.character + 1} ${Math.round(ms)} ms `
        + `(prompt ${result.promptTokens} tokens, ${result.reusedTokens} reused, ${result.ids.length} generated, ${result.reason})`,
      );
      if (!out.text) return undefined;
      cache.remember(uri, text, offset, out.text);
      return { text: out.text, lineBefore, languageId: doc.languageId };
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      counts.failed++;
      connection.console.error(`completion failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      return undefined;
    } finally {
      onCancel.dispose();
      latest.end(uri, ticket);
    }
  }

  async function adapt(args: unknown[] | undefined, token: CancellationToken, workDone: WorkDoneProgressReporter, clientToken: boolean) {
    const arg = args?.[0];
    const target = typeof arg === 'string' ? (arg.startsWith('file:') ? fileURLToPath(arg) : arg) : root;
    if (!target) throw new ResponseError(ErrorCodes.InvalidParams, 'codefudge.adapt: no workspace folder to adapt (pass its path as the argument)');
    let flags: string[];
    try {
      flags = adaptFlags(args?.[1]);
    } catch (e) {
      throw new ResponseError(ErrorCodes.InvalidParams, `codefudge.adapt: ${(e as Error).message}`);
    }
    if (adapting) throw new ResponseError(ErrorCodes.InvalidRequest, 'codefudge.adapt: an adaptation is already running');
    adapting = true;
    let progress: WorkDoneProgressReporter | WorkDoneProgressServerReporter = workDone;
    if (!clientToken && canCreateProgress) progress = await connection.window.createWorkDoneProgress().catch(() => workDone);
    const abort = new AbortController();
    const subscriptions = [token.onCancellationRequested(() => abort.abort())];
    if ('token' in progress) subscriptions.push(progress.token.onCancellationRequested(() => abort.abort()));
    progress.begin('codefudge adapt', 0, `adapting to ${target}`, true);
    try {
      await adaptRunner({ root: target, model: host.status().dir ?? undefined, flags }, (p) => {
        connection.console.log(`adapt: ${p.message}`);
        if (p.percentage === undefined) progress.report(p.message);
        else progress.report(Math.round(p.percentage), p.message);
      }, abort.signal);
      adapterWatch?.check();
      connection.console.info(`adapt: finished for ${target}`);
      return { ok: true, root: target, adapter: workspaceAdapterDir(target) };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      connection.console.error(`adapt: ${message}`);
      if (abort.signal.aborted) throw cancelled();
      showError(`codefudge: ${message}`);
      throw new ResponseError(ErrorCodes.InternalError, message);
    } finally {
      progress.done();
      for (const s of subscriptions) s.dispose();
      adapting = false;
    }
  }

  function status() {
    return {
      model: host.status(),
      backend: remote.status(),
      workspace: root ?? null,
      settings,
      cache: cache.stats(),
      lastCompletion: last ? { ...last, milliseconds: Math.round(last.milliseconds * 10) / 10 } : null,
      requests: { ...counts, superseded: latest.superseded },
      adapting,
    };
  }

  connection.onInitialize((params): InitializeResult => {
    root = workspaceRoot(params);
    canPullConfiguration = params.capabilities.workspace?.configuration === true;
    canCreateProgress = params.capabilities.window?.workDoneProgress === true;
    applySettings(params.initializationOptions ?? {}, 'initializationOptions');
    useModel();
    refreshAdapter();
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
    if (raw !== null && raw !== undefined) applySettings(raw, 'workspace/didChangeConfiguration');
  });

  connection.onCompletion(async (params, token): Promise<CompletionList> => {
    const { uri, position } = textDocumentPosition(params, 'textDocument/completion');
    const kind = params.context?.triggerKind;
    const automatic = kind === CompletionTriggerKind.TriggerCharacter || kind === CompletionTriggerKind.TriggerForIncompleteCompletions;
    const s = await suggest(uri, position, automatic, token);
    return { isIncomplete: true, items: s ? [completionItem(s.text, position, s.languageId, s.lineBefore)] : [] };
  });

  connection.languages.inlineCompletion.on(async (params, token): Promise<InlineCompletionList | null> => {
    const { uri, position } = textDocumentPosition(params, 'textDocument/inlineCompletion');
    const automatic = params.context?.triggerKind === InlineCompletionTriggerKind.Automatic;
    const s = await suggest(uri, position, automatic, token);
    return s ? { items: [inlineCompletionItem(s.text, position)] } : null;
  });

  // Registered on the request itself: onExecuteCommand's wrapper deletes the client's workDoneToken
  // before the handler could see whether there was one.
  connection.onRequest(ExecuteCommandRequest.type, async (params, token) => {
    if (params?.command === COMMANDS.status) return status();
    if (params?.command === COMMANDS.suggestDiff) {
      return suggestDiffCommand(params.arguments, { completer: () => host.completer(), exclusive: (t) => mutex.run(t), openText: (uri) => documents.get(uri)?.getText(), root, log: (l) => connection.console.log(l) }, token);
    }
    if (params?.command === COMMANDS.adapt) {
      const clientToken = params.workDoneToken !== undefined;
      return adapt(params.arguments, token, connection.window.attachWorkDoneProgress(params.workDoneToken), clientToken);
    }
    throw new ResponseError(ErrorCodes.InvalidParams, `unknown command "${params?.command}" (known: ${Object.values(COMMANDS).join(', ')})`);
  });

  documents.onDidClose((e) => cache.forget(e.document.uri));
  connection.onShutdown(async () => {
    adapterWatch?.stop();
    await host.release();
  });
  documents.listen(connection);
  connection.listen();
  return connection;
}

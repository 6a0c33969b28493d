// The built server (`node bin/codefudge.js serve`) as a separate process, driven through a real
// JSON-RPC client (vscode-jsonrpc) over its stdio, as an editor drives it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CancellationTokenSource,
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';

/** The package root (this file runs from dist/test/server/). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(REPO, 'bin', 'codefudge.js');

export interface Position {
  line: number;
  character: number;
}

export interface Notification {
  method: string;
  params: any;
}

export class ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly rpc: MessageConnection;
  readonly notifications: Notification[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private versions = new Map<string, number>();

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [CLI, 'serve', ...args], { env: { ...process.env, ...env }, cwd: REPO });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.rpc = createMessageConnection(new StreamMessageReader(this.child.stdout), new StreamMessageWriter(this.child.stdin));
    this.rpc.onNotification((method, params) => {
      this.notifications.push({ method, params });
    });
    // vscode-jsonrpc routes $/progress to progress handlers; with none registered it lands here.
    this.rpc.onUnhandledProgress((params) => {
      this.notifications.push({ method: '$/progress', params });
    });
    // A server that dies must fail the pending requests rather than leave them hanging.
    this.child.on('exit', () => setImmediate(() => this.rpc.dispose()));
    this.rpc.onRequest('window/workDoneProgress/create', () => null);
    this.rpc.onRequest('workspace/configuration', () => [null]);
    this.rpc.listen();
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  initialize(initializationOptions: unknown = {}, rootUri: string | null = null): Promise<any> {
    const result = this.rpc.sendRequest('initialize', {
      processId: process.pid,
      rootUri,
      capabilities: { window: { workDoneProgress: true } },
      initializationOptions,
    });
    return result.then((r) => {
      this.rpc.sendNotification('initialized', {});
      return r;
    });
  }

  open(uri: string, text: string, languageId = 'python'): void {
    this.versions.set(uri, 1);
    this.rpc.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  /** Incremental changes: each a range and the text replacing it. */
  change(uri: string, ...changes: { range: { start: Position; end: Position }; text: string }[]): void {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    this.rpc.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
  }

  /** Inserts `text` at `at`. */
  type(uri: string, at: Position, text: string): void {
    this.change(uri, { range: { start: at, end: at }, text });
  }

  configure(settings: unknown): void {
    this.rpc.sendNotification('workspace/didChangeConfiguration', { settings });
  }

  completion(uri: string, position: Position, triggerKind = 1, cancel?: CancellationTokenSource): Promise<any> {
    const params = { textDocument: { uri }, position, context: { triggerKind } };
    // A third argument, even undefined, would be sent as positional parameters.
    return cancel
      ? this.rpc.sendRequest('textDocument/completion', params, cancel.token)
      : this.rpc.sendRequest('textDocument/completion', params);
  }

  inline(uri: string, position: Position, triggerKind = 1): Promise<any> {
    return this.rpc.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position, context: { triggerKind } });
  }

  command(command: string, args?: unknown[], extra: Record<string, unknown> = {}): Promise<any> {
    return this.rpc.sendRequest('workspace/executeCommand', { command, arguments: args, ...extra });
  }

  /** Waits until the status command says the model is `state` (loads run in the background). */
  async waitForModel(state: 'ready' | 'failed', spec?: string, timeoutMs = 20_000): Promise<any> {
    const t0 = Date.now();
    for (;;) {
      const s = await this.command('codefudge.status');
      if (s.model.state === state && (spec === undefined || s.model.spec === spec)) return s;
      if (Date.now() - t0 > timeoutMs) throw new Error(`model did not become ${state}: ${JSON.stringify(s.model)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for a notification matching `test` (notifications may trail the response they came with). */
  async waitForNotification(test: (n: Notification) => boolean, timeoutMs = 15_000): Promise<Notification> {
    const t0 = Date.now();
    for (;;) {
      const found = this.notifications.find(test);
      if (found) return found;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(
          `no such notification arrived among: ${JSON.stringify(this.notifications.filter((n) => n.method !== 'window/logMessage'))}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  writeRaw(bytes: string | Buffer): void {
    this.child.stdin.write(bytes);
  }

  async shutdown(): Promise<number | null> {
    await this.rpc.sendRequest('shutdown');
    this.rpc.sendNotification('exit');
    const code = await this.exited;
    this.rpc.dispose();
    return code;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
    this.rpc.dispose();
  }
}

/** The text of the first completion item's edit, or undefined for an empty list. */
export function firstEdit(list: any): string | undefined {
  return list?.items?.[0]?.textEdit?.newText;
}

export { CancellationTokenSource };

// The VS Code extension's own logic, run in Node with stand-ins for the `vscode` API and
// vscode-languageclient (no VS Code in CI): it starts for languages added in settings, starts npm's
// .cmd shim through a shell on Windows, and shows what codefudge.status and codefudge.adapt return.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/lsp-client.js';

interface Fake {
  settings: Record<string, unknown>;
  clients: { serverOptions: any; clientOptions: any; started: boolean; stopped: boolean; notifications: unknown[] }[];
  shown: string[];
  channel: string[];
  openListeners: ((doc: { languageId: string }) => void)[];
  configListeners: ((e: { affectsConfiguration: (s: string) => boolean }) => void)[];
  textDocuments: { languageId: string }[];
}

function loadExtension(fake: Fake) {
  const vscode = {
    workspace: {
      getConfiguration: () => ({ get: (k: string) => fake.settings[k] }),
      get textDocuments() {
        return fake.textDocuments;
      },
      onDidOpenTextDocument: (f: any) => {
        fake.openListeners.push(f);
        return { dispose() {} };
      },
      onDidChangeConfiguration: (f: any) => {
        fake.configListeners.push(f);
        return { dispose() {} };
      },
    },
    window: {
      activeTextEditor: undefined,
      createOutputChannel: () => ({
        clear() {
          fake.channel.length = 0;
        },
        appendLine(l: string) {
          fake.channel.push(l);
        },
        show() {},
        dispose() {},
      }),
      showInformationMessage: (m: string) => {
        fake.shown.push(m);
      },
      showErrorMessage: (m: string) => {
        fake.shown.push(`error: ${m}`);
      },
    },
    commands: { registerCommand: () => ({ dispose() {} }) },
  };
  class LanguageClient {
    record: Fake['clients'][number];
    constructor(_id: string, _name: string, serverOptions: unknown, clientOptions: unknown) {
      this.record = { serverOptions, clientOptions, started: false, stopped: false, notifications: [] };
      fake.clients.push(this.record);
    }
    registerProposedFeatures() {}
    async start() {
      this.record.started = true;
    }
    async stop() {
      this.record.stopped = true;
    }
    sendNotification(_m: string, p: unknown) {
      this.record.notifications.push(p);
    }
  }
  const mocks: Record<string, unknown> = { vscode, 'vscode-languageclient/node': { LanguageClient, TransportKind: { stdio: 0 } } };
  const M = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = M._load;
  M._load = (request, ...rest) => (request in mocks ? mocks[request] : original(request, ...rest));
  try {
    const require = createRequire(import.meta.url);
    const path = join(REPO, 'clients', 'vscode', 'extension.js');
    delete require.cache[path];
    return require(path);
  } finally {
    M._load = original;
  }
}

function fake(): Fake {
  return {
    settings: { languages: ['python'], serverPath: 'codefudge' },
    clients: [],
    shown: [],
    channel: [],
    openListeners: [],
    configListeners: [],
    textDocuments: [],
  };
}

describe('VS Code extension', () => {
  it('serverPath has machine scope; activation does not depend on a listed language', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'clients', 'vscode', 'package.json'), 'utf8'));
    assert.equal(pkg.contributes.configuration.properties['codefudge.serverPath'].scope, 'machine');
    assert.ok(pkg.activationEvents.includes('onStartupFinished'));
  });

  it('starts the server for a language added in settings, and restarts it when the list changes', async () => {
    const f = fake();
    const ext = loadExtension(f);
    await ext.activate({ subscriptions: [] });
    assert.equal(f.clients.length, 0, 'no document of a configured language yet');
    f.openListeners[0]({ languageId: 'elixir' });
    assert.equal(f.clients.length, 0);
    f.settings.languages = ['python', 'elixir'];
    f.textDocuments.push({ languageId: 'elixir' });
    for (const l of f.configListeners) await l({ affectsConfiguration: (s: string) => s === 'codefudge' || s === 'codefudge.languages' });
    assert.equal(f.clients.length, 1);
    assert.deepEqual(f.clients[0].clientOptions.documentSelector, [
      { scheme: 'file', language: 'python' },
      { scheme: 'file', language: 'elixir' },
    ]);
    assert.equal(f.clients[0].started, true);
    // Other settings go to the running server.
    for (const l of f.configListeners) await l({ affectsConfiguration: (s: string) => s === 'codefudge' || s === 'codefudge.maxTokens' });
    assert.equal(f.clients[0].notifications.length, 1);
  });

  it("runs npm's .cmd shim through a shell on Windows only", () => {
    const f = fake();
    const ext = loadExtension(f);
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    try {
      Object.defineProperty(process, 'platform', { value: 'win32' });
      f.settings.serverPath = 'C:\\Program Files\\nodejs\\codefudge.cmd';
      const win = ext.serverOptions().run;
      assert.equal(win.options.shell, true);
      assert.equal(win.command, '"C:\\Program Files\\nodejs\\codefudge.cmd"', 'quoted for the shell');
      Object.defineProperty(process, 'platform', { value: 'linux' });
      f.settings.serverPath = '';
      const linux = ext.serverOptions().run;
      assert.equal(linux.options.shell, false);
      assert.equal(linux.command, 'codefudge');
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
  });

  it('shows the status in its output channel and the adapt result in a message', async () => {
    const f = fake();
    const ext = loadExtension(f);
    await ext.activate({ subscriptions: [] });
    const status = { model: { state: 'ready' }, lastCompletion: null };
    assert.deepEqual(await ext.showCommandResult('codefudge.status', [], async () => status), status);
    assert.deepEqual(JSON.parse(f.channel.join('\n')), status);
    await ext.showCommandResult('codefudge.adapt', [], async () => ({ ok: true, root: '/repo', adapter: '/repo/.codefudge/adapter' }));
    assert.deepEqual(f.shown, ['codefudge: adapted to /repo; the adapter is in /repo/.codefudge/adapter']);
  });
});

// A thin VS Code client for `codefudge serve`: completion items and (through the proposed
// inline-completion feature of vscode-languageclient) ghost text; the server's commands
// codefudge.status and codefudge.adapt are registered by the client from the server's capabilities.
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** Settings the server knows; the executable and language list stay on this side. */
const SERVER_SETTINGS = ['model', 'adapter', 'maxTokens', 'mode', 'debounceMs', 'maxPrefixTokens', 'maxSuffixTokens', 'temperature', 'fimMode', 'stopOnLoop'];

let client;

function serverSettings() {
  const config = vscode.workspace.getConfiguration('codefudge');
  const out = {};
  for (const key of SERVER_SETTINGS) out[key] = config.get(key);
  return out;
}

async function activate(context) {
  const config = vscode.workspace.getConfiguration('codefudge');
  // TransportKind.stdio adds --stdio to the arguments; codefudge serve accepts and ignores it.
  const run = { command: config.get('serverPath') || 'codefudge', args: ['serve'], transport: TransportKind.stdio };
  client = new LanguageClient('codefudge', 'codefudge', { run, debug: run }, {
    documentSelector: config.get('languages').map((language) => ({ scheme: 'file', language })),
    initializationOptions: serverSettings(),
  });
  client.registerProposedFeatures();
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('codefudge') && client) {
      client.sendNotification('workspace/didChangeConfiguration', { settings: serverSettings() });
    }
  }));
  // codefudge.suggestDiff needs arguments, so the palette gets a command that asks for them.
  context.subscriptions.push(vscode.commands.registerCommand('codefudge.suggestDiffForFile', async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !client) return;
    const message = await vscode.window.showInputBox({ prompt: 'Commit message describing the change' });
    if (!message) return;
    try {
      const edit = await client.sendRequest('workspace/executeCommand', {
        command: 'codefudge.suggestDiff', arguments: [editor.document.uri.toString(), message],
      });
      await vscode.workspace.applyEdit(await client.protocol2CodeConverter.asWorkspaceEdit(edit));
    } catch (e) {
      vscode.window.showErrorMessage(`codefudge: ${e.message}`);
    }
  }));
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

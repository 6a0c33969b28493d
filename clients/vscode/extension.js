// A thin VS Code client for `codefudge serve`: completion items and (through the proposed
// inline-completion feature of vscode-languageclient) ghost text; the server's commands
// codefudge.status and codefudge.adapt are registered by the client from the server's capabilities,
// and their results are shown (the command palette drops a command's return value).
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** Settings the server knows; the executable and language list stay on this side. */
const SERVER_SETTINGS = [
  'model',
  'adapter',
  'maxTokens',
  'mode',
  'debounceMs',
  'maxPrefixTokens',
  'maxSuffixTokens',
  'singleLineSuffixTokens',
  'temperature',
  'fimMode',
  'stopOnLoop',
];

let client;
let starting;
let output;

function serverSettings() {
  const config = vscode.workspace.getConfiguration('codefudge');
  const out = {};
  for (const key of SERVER_SETTINGS) out[key] = config.get(key);
  return out;
}

function languages() {
  return vscode.workspace.getConfiguration('codefudge').get('languages') || [];
}

/** How to start the server. On Windows `codefudge` is npm's `codefudge.cmd` shim, which only a shell runs. */
function serverOptions() {
  const config = vscode.workspace.getConfiguration('codefudge');
  const windows = process.platform === 'win32';
  let command = config.get('serverPath') || 'codefudge';
  if (windows && /\s/.test(command) && !/^".*"$/.test(command)) command = `"${command}"`;
  // TransportKind.stdio adds --stdio to the arguments; codefudge serve accepts and ignores it.
  const run = { command, args: ['serve'], transport: TransportKind.stdio, options: { shell: windows } };
  return { run, debug: run };
}

/** Shows what the server's commands return: the status in the output channel, adapt's outcome in a message. */
async function showCommandResult(command, args, next) {
  const result = await next(command, args);
  if (command === 'codefudge.status') {
    output.clear();
    output.appendLine(JSON.stringify(result, null, 2));
    output.show(true);
  } else if (command === 'codefudge.adapt' && result && result.ok) {
    vscode.window.showInformationMessage(`codefudge: adapted to ${result.root}; the adapter is in ${result.adapter}`);
  }
  return result;
}

function start() {
  if (starting) return starting;
  client = new LanguageClient('codefudge', 'codefudge', serverOptions(), {
    documentSelector: languages().map((language) => ({ scheme: 'file', language })),
    initializationOptions: serverSettings(),
    outputChannel: output,
    middleware: { executeCommand: showCommandResult },
  });
  client.registerProposedFeatures();
  starting = client.start().catch((e) => {
    vscode.window.showErrorMessage(`codefudge: cannot start the server: ${e.message}`);
  });
  return starting;
}

async function stop() {
  const c = client;
  client = undefined;
  starting = undefined;
  if (c) await c.stop();
}

/** Starts the server once a document of a configured language is open (the list is a setting). */
function startIfWanted(document) {
  if (!client && document && languages().includes(document.languageId)) start();
}

async function activate(context) {
  output = vscode.window.createOutputChannel('codefudge');
  context.subscriptions.push(output);
  // Activation is onStartupFinished too, so a language added in settings needs no listed activation event.
  for (const document of vscode.workspace.textDocuments) startIfWanted(document);
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(startIfWanted));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('codefudge')) return;
      if (e.affectsConfiguration('codefudge.languages') || e.affectsConfiguration('codefudge.serverPath')) {
        // The document selector and the executable are fixed when the client starts: start it again.
        await stop();
        for (const document of vscode.workspace.textDocuments) startIfWanted(document);
      } else if (client) {
        client.sendNotification('workspace/didChangeConfiguration', { settings: serverSettings() });
      }
    }),
  );
  // codefudge.suggestDiff needs arguments, so the palette gets a command that asks for them.
  context.subscriptions.push(
    vscode.commands.registerCommand('codefudge.suggestDiffForFile', async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor || !client) return;
      const message = await vscode.window.showInputBox({ prompt: 'Commit message describing the change' });
      if (!message) return;
      try {
        const edit = await client.sendRequest('workspace/executeCommand', {
          command: 'codefudge.suggestDiff',
          arguments: [editor.document.uri.toString(), message],
        });
        await vscode.workspace.applyEdit(await client.protocol2CodeConverter.asWorkspaceEdit(edit));
      } catch (e) {
        vscode.window.showErrorMessage(`codefudge: ${e.message}`);
      }
    }),
  );
  if (vscode.window.activeTextEditor) startIfWanted(vscode.window.activeTextEditor.document);
  await starting;
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate, serverOptions, showCommandResult };

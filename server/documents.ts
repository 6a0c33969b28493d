// The open documents, kept from didOpen/didChange/didClose notifications that are checked first.
//
// vscode-languageserver's TextDocuments trusts what it gets: a change range at line 1e9 grows the
// line table to a billion slots (every later edit then loops over them), and `line: "a"` is
// concatenated as a string, doubling the text. Here every notification is validated as a whole:
// one bad change rejects it (logged) and the document stays as it was. Valid positions past the
// end are clamped to the document, in O(log n) per position, before the edit is applied.
import type { Connection, Position } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

export function isPosition(p: unknown): p is Position {
  if (typeof p !== 'object' || p === null) return false;
  const { line, character } = p as Record<string, unknown>;
  return Number.isSafeInteger(line) && Number.isSafeInteger(character) && (line as number) >= 0 && (character as number) >= 0;
}

type Change = { text: string } | { range: { start: Position; end: Position }; text: string };

/** Why `c` is not a content change, or undefined when it is one. */
function changeProblem(c: unknown): string | undefined {
  if (typeof c !== 'object' || c === null) return 'a change is not an object';
  const { range, text } = c as Record<string, unknown>;
  if (typeof text !== 'string') return 'a change has no text string';
  if (range === undefined) return undefined;
  const r = range as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || !isPosition(r.start) || !isPosition(r.end)) {
    return 'a change range needs start and end with non-negative integer line and character';
  }
  return undefined;
}

function uriOf(params: unknown): string | undefined {
  const uri = (params as { textDocument?: { uri?: unknown } } | null | undefined)?.textDocument?.uri;
  return typeof uri === 'string' ? uri : undefined;
}

export class DocumentStore {
  private readonly docs = new Map<string, TextDocument>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly onClose: (uri: string) => void = () => undefined,
  ) {}

  get(uri: string): TextDocument | undefined {
    return this.docs.get(uri);
  }

  all(): TextDocument[] {
    return [...this.docs.values()];
  }

  open(params: unknown): void {
    const td = (params as { textDocument?: Record<string, unknown> } | null | undefined)?.textDocument;
    const uri = uriOf(params);
    // Without its text there is no document to complete in: opening an empty one would make every
    // later edit and request act on text the editor does not have.
    if (!td || uri === undefined || typeof td.text !== 'string') {
      this.log('textDocument/didOpen ignored: it needs textDocument.uri and textDocument.text strings');
      return;
    }
    const languageId = typeof td.languageId === 'string' ? td.languageId : 'plaintext';
    const version = Number.isSafeInteger(td.version) ? (td.version as number) : 0;
    this.docs.set(uri, TextDocument.create(uri, languageId, version, td.text));
  }

  change(params: unknown): void {
    const uri = uriOf(params);
    const doc = uri === undefined ? undefined : this.docs.get(uri);
    if (!doc) {
      if (uri === undefined) this.log('textDocument/didChange ignored: no textDocument.uri');
      return;
    }
    const p = params as { textDocument: { version?: unknown }; contentChanges?: unknown };
    const changes = p.contentChanges;
    if (!Array.isArray(changes)) {
      this.log(`textDocument/didChange ignored for ${uri}: contentChanges must be an array`);
      return;
    }
    for (const c of changes) {
      const problem = changeProblem(c);
      if (problem) {
        this.log(`textDocument/didChange ignored for ${uri}: ${problem} (${JSON.stringify(c)?.slice(0, 200)})`);
        return;
      }
    }
    const version = Number.isSafeInteger(p.textDocument.version) ? (p.textDocument.version as number) : doc.version + 1;
    // One at a time: each change's positions refer to the text the previous one left.
    for (const c of changes as Change[]) {
      if (!('range' in c) || c.range === undefined) {
        TextDocument.update(doc, [{ text: c.text }], version);
        continue;
      }
      const clamp = (pos: Position) => doc.positionAt(doc.offsetAt(pos));
      TextDocument.update(doc, [{ range: { start: clamp(c.range.start), end: clamp(c.range.end) }, text: c.text }], version);
    }
  }

  close(params: unknown): void {
    const uri = uriOf(params);
    if (uri === undefined || !this.docs.delete(uri)) return;
    this.onClose(uri);
  }

  /** Handles the document notifications of `connection`. */
  listen(connection: Connection): void {
    connection.onNotification('textDocument/didOpen', (p: unknown) => this.open(p));
    connection.onNotification('textDocument/didChange', (p: unknown) => this.change(p));
    connection.onNotification('textDocument/didClose', (p: unknown) => this.close(p));
  }
}

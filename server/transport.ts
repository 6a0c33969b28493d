// The stdio transport, hardened: malformed input gets a JSON-RPC error and never stops the server.
//
// vscode-jsonrpc reports a bad frame as an error and carries on, but bytes that are not a frame at
// all (no "Content-Length" header) would glue every later message to the garbage before it. So a
// frame guard in front of the reader drops such bytes and picks the stream up again at the next
// "Content-Length:" header; bodies that are not JSON, and JSON that is not a JSON-RPC message, are
// answered with the JSON-RPC errors for them (-32700 parse error, -32600 invalid request).
import { Transform, type TransformCallback } from 'node:stream';
import {
  StreamMessageReader,
  StreamMessageWriter,
  ErrorCodes,
  type DataCallback,
  type Message,
  type MessageReader,
  type MessageWriter,
} from 'vscode-languageserver/node';

const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');
const CONTENT_LENGTH = /(?:^|\r\n)content-length:[ \t]*(\d+)[ \t]*(?:\r\n|$)/i;
/** Header blocks longer than this are garbage, not headers. */
const MAX_HEADER_BYTES = 4096;
/**
 * Frames larger than this are refused with an error and skipped (a 10 MB document is fine): a
 * client announcing gigabytes would otherwise have the server buffer, and wait, forever.
 */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Index of the next "content-length:" (any case) in `buf` at or after `from`, or -1. */
function nextHeader(buf: Buffer, from: number): number {
  const lower = buf.toString('latin1').toLowerCase();
  return lower.indexOf('content-length:', from);
}

/** The body length of a well-formed header block ("Name: value" lines, one a Content-Length), or why it is refused. */
function frameLength(header: string): number | string {
  const malformed = `a malformed message header (${JSON.stringify(header.slice(0, 80))})`;
  if (!header.split('\r\n').every((line) => /^[!-9;-~]+:/.test(line))) return malformed;
  const m = CONTENT_LENGTH.exec(header);
  if (!m) return malformed;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n) || n > MAX_BODY_BYTES)
    return `a message of Content-Length ${m[1]}, over the ${MAX_BODY_BYTES / 1024 / 1024} MB limit`;
  return n;
}

/** Passes through whole, well-framed messages only; reports and drops everything else. */
export class FrameGuard extends Transform {
  private buffer = Buffer.alloc(0);
  /** Chunks received while a large frame is incomplete, joined once it is whole. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private need = 0;

  constructor(private readonly onGarbage: (description: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.buffer.length + this.pendingBytes < this.need) return done();
    this.buffer = Buffer.concat([this.buffer, ...this.pending]);
    this.pending = [];
    this.pendingBytes = 0;
    this.need = 0;
    for (;;) {
      const headerEnd = this.buffer.indexOf(HEADER_END);
      if (headerEnd < 0) {
        if (this.buffer.length > MAX_HEADER_BYTES) this.resync(1, 'bytes that are not a message header');
        break;
      }
      const header = this.buffer.subarray(0, headerEnd).toString('latin1');
      const length = headerEnd <= MAX_HEADER_BYTES ? frameLength(header) : 'bytes that are not a message header';
      if (typeof length === 'string') {
        // Whatever body follows a refused header is skipped as garbage up to the next header.
        this.resync(1, length, headerEnd + HEADER_END.length);
        continue;
      }
      const end = headerEnd + HEADER_END.length + length;
      if (this.buffer.length < end) {
        this.need = end;
        break;
      }
      this.push(this.buffer.subarray(0, end));
      this.buffer = this.buffer.subarray(end);
    }
    done();
  }

  /** Drops bytes up to the next "Content-Length:" after `from` (or up to `fallback`, or all but a possible header start). */
  private resync(from: number, what: string, fallback?: number): void {
    const next = nextHeader(this.buffer, from);
    const drop = next >= 0 ? next : (fallback ?? Math.max(0, this.buffer.length - 'content-length:'.length));
    this.buffer = this.buffer.subarray(drop);
    this.onGarbage(what);
  }
}

function isMessage(m: unknown): m is Message {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  const o = m as Record<string, unknown>;
  const idOk = o.id === undefined || o.id === null || typeof o.id === 'string' || typeof o.id === 'number';
  if (!idOk) return false;
  if (typeof o.method === 'string') return true;
  return o.id !== undefined && ('result' in o || 'error' in o);
}

export interface Transport {
  reader: MessageReader;
  writer: MessageWriter;
}

/** Reader and writer over `input`/`output` that answer malformed input with JSON-RPC errors. */
export function guardedTransport(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, log: (line: string) => void): Transport {
  const writer = new StreamMessageWriter(output);
  const replyError = (code: number, message: string) => {
    log(`malformed input: ${message}`);
    writer.write({ jsonrpc: '2.0', id: null, error: { code, message } } as Message).catch(() => undefined);
  };
  const guard = new FrameGuard((what) => replyError(ErrorCodes.ParseError, `Parse error: dropped ${what}`));
  input.pipe(guard);
  const inner = new StreamMessageReader(guard);
  inner.onError((e) => replyError(ErrorCodes.ParseError, `Parse error: ${e.message.split('\n')[0]}`));
  const reader: MessageReader = {
    onError: inner.onError,
    onClose: inner.onClose,
    onPartialMessage: inner.onPartialMessage,
    listen(callback: DataCallback) {
      return inner.listen((message) => {
        if (isMessage(message)) callback(message);
        else replyError(ErrorCodes.InvalidRequest, 'Invalid Request: not a JSON-RPC request, notification or response');
      });
    },
    dispose: () => inner.dispose(),
  };
  return { reader, writer };
}

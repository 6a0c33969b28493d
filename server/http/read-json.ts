// The request body as JSON, within a size limit: an oversize body is refused by its
// Content-Length before any of it is read, or as soon as a chunked one passes the limit.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors.js';

/** How much of an oversize chunked body is read and dropped before the connection is given up. */
const DRAIN_BYTES = 1 << 20;

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new HttpError(413, `request body is larger than ${maxBytes} bytes`, null, 'body_too_large');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Past the limit the rest is read and dropped (up to a bound), so a client still sending can
    // read the 413 instead of seeing its connection reset mid-body.
    if (size > maxBytes + DRAIN_BYTES) throw tooLarge();
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) throw tooLarge();
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'request body is empty; expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`);
  }
}

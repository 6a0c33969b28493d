// `codefudge serve --http` as a real child process on a loopback port chosen by the OS (--port 0),
// found from the "listening on URL" line it prints on stdout.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI, REPO } from './lsp-client.js';

export class HttpServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stderr = '';
  stdout = '';
  readonly url: Promise<string>;
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [CLI, 'serve', '--http', '--port', '0', ...args], { env: { ...process.env, ...env }, cwd: REPO });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.url = new Promise((resolve, reject) => {
      this.child.stdout.on('data', (d: Buffer) => {
        this.stdout += d.toString();
        const m = /^listening on (http:\/\/\S+)$/m.exec(this.stdout);
        if (m) resolve(m[1]);
      });
      void this.exited.then((code) => reject(new Error(`serve --http exited (${code}) before listening: ${this.stderr}`)));
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident memory of the server process in bytes (Linux /proc). */
  rss(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}

/** POSTs `body` (an object as JSON, or a raw string) and returns status, headers and text. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The `data:` payloads of a server-sent-events body, in order. */
export function sseEvents(text: string): string[] {
  return text
    .split('\n\n')
    .filter((e) => e.trim())
    .map((e) => {
      const lines = e.split('\n');
      for (const l of lines) if (!l.startsWith('data: ')) throw new Error(`not a data line: ${JSON.stringify(l)}`);
      return lines.map((l) => l.slice(6)).join('\n');
    });
}

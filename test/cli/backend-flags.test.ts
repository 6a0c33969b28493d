// `codefudge complete --backend URL --backend-model NAME` against a real `codefudge serve --http`:
// the same text as without --backend, and one-line errors for every way it can go wrong.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EMBEDDED_MODEL } from '../../engine/index.js';
import { assertOneLineError, type CliResult } from '../helpers/cli.js';
import { HttpServerProcess } from '../server/http-server-process.js';

const root = mkdtempSync(join(tmpdir(), 'cf-cli-backend-'));
const env = { ...process.env, CODEFUDGE_CACHE: process.env.CODEFUDGE_CACHE ?? join(root, 'cache') };
const source = join(root, 'a.py');
writeFileSync(source, 'import os\n\ndef read_file(path):\n    \n\nprint(read_file("x"))\n');
let server: HttpServerProcess;
let url: string;

/** The CLI as a child process, without blocking this one's event loop. */
function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/codefudge.js', ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** A port nothing listens on (bound, then closed). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  server = new HttpServerProcess(['--threads', '1'], env as Record<string, string>);
  url = await server.url;
});
after(() => {
  server?.kill();
  rmSync(root, { recursive: true, force: true });
});

describe('complete --backend', () => {
  it('prints what the in-process model prints', async () => {
    for (const stop of ['block', 'line']) {
      const here = await cli('complete', '--stop', stop, '--max-tokens', '24', `${source}:4:5`);
      const there = await cli('complete', '--stop', stop, '--max-tokens', '24', '--backend', url, '--backend-model', EMBEDDED_MODEL, `${source}:4:5`);
      assert.equal(here.code, 0, here.err);
      assert.equal(there.code, 0, there.err);
      assert.equal(there.out, here.out, `--stop ${stop}`);
    }
  });

  it('fails with one line naming the problem', async () => {
    assertOneLineError(await cli('complete', '--backend', url, `${source}:4:5`), /--backend needs --backend-model NAME/);
    assertOneLineError(await cli('complete', '--backend-model', 'x', `${source}:4:5`), /--backend-model needs --backend URL/);
    assertOneLineError(await cli('complete', '--backend', 'gpu-box:8000', '--backend-model', 'x', `${source}:4:5`), /--backend must be an http\(s\) URL/);
    assertOneLineError(await cli('complete', '--backend', url, '--backend-model', 'nope', `${source}:4:5`), /answered 404 to \/v1\/completions: The model `nope` does not exist\./);
    const closed = await freePort();
    assertOneLineError(await cli('complete', '--backend', `http://127.0.0.1:${closed}`, '--backend-model', 'x', `${source}:4:5`), new RegExp(`backend http://127\\.0\\.0\\.1:${closed} is unreachable: ECONNREFUSED$`));
    assertOneLineError(await cli('complete', '--backend', url, '--backend-model', EMBEDDED_MODEL, '--beams', '2', `${source}:4:5`), /beam search is not available through a remote backend/);
  });
});

// `codefudge complete --backend URL --backend-model NAME` against a real `codefudge serve --http`:
// the same text as without --backend, and one-line errors for every way it can go wrong.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  defaultLoraSpec,
  EMBEDDED_MODEL,
  embeddedModelDir,
  layoutForSpec,
  makeLoraAdapter,
  readModelConfig,
  writePeftAdapter,
} from '../../engine/index.js';
import { Rng } from '../../common/index.js';
import { PYTHON } from '../helpers/tasks-fixtures.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';
import { assertOneLineError, type CliResult } from '../helpers/cli.js';
import { HttpServerProcess } from '../helpers/http-server-process.js';

const root = mkdtempSync(join(tmpdir(), 'cf-cli-backend-'));
const env = { ...process.env, CODEFUDGE_CACHE: process.env.CODEFUDGE_CACHE ?? join(root, 'cache') };
const source = join(root, 'a.py');
writeFileSync(source, 'import os\n\ndef read_file(path):\n    \n\nprint(read_file("x"))\n');
const folder = join(root, 'project');
const adapter = join(root, 'adapter');
let server: HttpServerProcess;

/** A small random adapter for the embedded model, so its column differs from the base model's. */
function writeAdapter(): void {
  const spec = defaultLoraSpec({ r: 2, alpha: 4 });
  const rng = new Rng(9);
  const matrices = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const m of layoutForSpec(readModelConfig(embeddedModelDir()), spec).modules) {
    matrices.set(m.keyA, { shape: [m.r, m.inFeatures], data: Float32Array.from({ length: m.r * m.inFeatures }, () => rng.normal() * 0.2) });
    matrices.set(m.keyB, {
      shape: [m.outFeatures, m.r],
      data: Float32Array.from({ length: m.r * m.outFeatures }, () => rng.normal() * 0.2),
    });
  }
  writePeftAdapter(adapter, makeLoraAdapter(spec, null, matrices));
}
let url: string;

/** The CLI as a child process, without blocking this one's event loop. */
function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/codefudge.js', ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
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
  writeAdapter();
  mkdirSync(folder);
  writeFileSync(join(folder, 'shapes.py'), PYTHON);
  server = new HttpServerProcess(['--threads', '1', '--lora', `repo=${adapter}`], env as Record<string, string>);
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
      const there = await cli(
        'complete',
        '--stop',
        stop,
        '--max-tokens',
        '24',
        '--backend',
        url,
        '--backend-model',
        EMBEDDED_MODEL,
        `${source}:4:5`,
      );
      assert.equal(here.code, 0, here.err);
      assert.equal(there.code, 0, there.err);
      assert.equal(there.out, here.out, `--stop ${stop}`);
    }
  });

  it('fails with one line naming the problem', async () => {
    assertOneLineError(await cli('complete', '--backend', url, `${source}:4:5`), /--backend needs --backend-model NAME/);
    assertOneLineError(await cli('complete', '--backend-model', 'x', `${source}:4:5`), /--backend-model needs --backend URL/);
    assertOneLineError(
      await cli('complete', '--backend', 'gpu-box:8000', '--backend-model', 'x', `${source}:4:5`),
      /--backend must be an http\(s\) URL/,
    );
    assertOneLineError(
      await cli('complete', '--backend', url, '--backend-model', 'nope', `${source}:4:5`),
      /answered 404 to \/v1\/completions: The model `nope` does not exist\./,
    );
    const closed = await freePort();
    assertOneLineError(
      await cli('complete', '--backend', `http://127.0.0.1:${closed}`, '--backend-model', 'x', `${source}:4:5`),
      new RegExp(`backend http://127\\.0\\.0\\.1:${closed} is unreachable: ECONNREFUSED$`),
    );
    assertOneLineError(
      await cli('complete', '--backend', url, '--backend-model', EMBEDDED_MODEL, '--beams', '2', `${source}:4:5`),
      /beam search is not available through a remote backend/,
    );
  });

  it('fim-eval --backend scores the middles the in-process model and adapter generate', { timeout: 120_000 }, async () => {
    const flags = ['--tasks', 'single-line,multi-line', '--limit', '2', '--resamples', '50', '--json', '--threads', '1'];
    const here = await cli('fim-eval', folder, ...flags, '--adapter', adapter);
    const there = await cli('fim-eval', folder, ...flags, '--backend', url, '--backend-model', EMBEDDED_MODEL, '--backend-adapter', 'repo');
    assert.equal(here.code, 0, here.err);
    assert.equal(there.code, 0, there.err);
    const texts = (r: CliResult) => JSON.parse(r.out).tasks.map((t: any) => [t.base.text, t.adapter.text]);
    assert.deepEqual(texts(there), texts(here));
    assert.ok(
      texts(here).some(([b, a]: string[]) => b !== a),
      'the adapter changes some middle',
    );
    assertOneLineError(
      await cli('fim-eval', folder, '--backend', url, '--backend-model', EMBEDDED_MODEL, '--adapter', adapter),
      /with --backend name the server's adapter/,
    );
  });

  it('suggest-diff --backend suggests what the in-process model does with one greedy beam', { timeout: 120_000 }, async () => {
    const repo = new ScriptedRepo('cf-suggest-backend-');
    try {
      repo.write('calc.py', 'def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n');
      repo.commit('Add calc');
      const flags = [
        'suggest-diff',
        '--repo',
        repo.dir,
        '--file',
        'calc.py',
        '--message',
        'Add mul',
        '--max-tokens',
        '48',
        '--quiet',
        '--threads',
        '1',
      ];
      const here = await cli(...flags, '--beams', '1', '--no-adapter');
      const there = await cli(...flags, '--backend', url, '--backend-model', EMBEDDED_MODEL);
      assert.deepEqual(there, here);
      assertOneLineError(await cli(...flags, '--backend', url, '--backend-model', EMBEDDED_MODEL, '--beams', '4'), /one greedy candidate/);
    } finally {
      repo.cleanup();
    }
  });
});

// `codefudge adapt REPO --register URL` against a real `codefudge serve --http` speaking vLLM's
// adapter routes: the trained adapter is loaded by name, served as a model, reloaded on a rerun.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertOneLineError, type CliResult } from '../helpers/cli.js';
import { BIN, FAST_FLAGS, patternRepo, testRoot, tinyModel } from '../helpers/adapt-fixtures.js';
import type { ScriptedRepo } from '../helpers/scripted-repo.js';
import { HttpServerProcess, post } from '../helpers/http-server-process.js';

const { root, env } = testRoot('cf-register-');
const model = tinyModel(join(root, 'tiny'));
let repo: ScriptedRepo;
let server: HttpServerProcess;
let url: string;

function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
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

before(async () => {
  repo = patternRepo(6);
  server = new HttpServerProcess(['--model', model, '--model-name', 'tiny', '--threads', '1'], env as Record<string, string>);
  url = await server.url;
});
after(() => {
  server?.kill();
  repo?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe('adapt --register', () => {
  it("loads the trained adapter into the server under the repository's name", { timeout: 120_000 }, async () => {
    const r = await cli(
      'adapt',
      repo.dir,
      '--model',
      model,
      ...FAST_FLAGS,
      '--steps',
      '4',
      '--quiet',
      '--register',
      url,
      '--register-name',
      'things',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      new RegExp(
        `loaded adapter "things" from ${repo.dir}.*/\\.codefudge/adapter into ${url.replace(/\./g, '\\.')}; requests with "model": "things" use it`,
      ),
    );
    const models = (await (await fetch(`${url}/v1/models`)).json()) as any;
    assert.deepEqual(
      models.data.map((m: any) => [m.id, m.parent]),
      [
        ['tiny', null],
        ['things', 'tiny'],
      ],
    );
    const c = await post(`${url}/v1/completions`, {
      model: 'things',
      prompt: 'class Thing9:\n    def get_',
      max_tokens: 4,
      temperature: 0,
    });
    assert.equal(c.status, 200, c.text);
    assert.equal(c.json.model, 'things');
  });

  it('reloads it on a rerun (vLLM keeps adapters by name)', { timeout: 120_000 }, async () => {
    const r = await cli(
      'adapt',
      repo.dir,
      '--model',
      model,
      ...FAST_FLAGS,
      '--steps',
      '4',
      '--quiet',
      '--register',
      url,
      '--register-name',
      'things',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /reloaded adapter "things"/);
  });

  it('checks the server before training: one line, nothing trained', async () => {
    const r = await cli('adapt', repo.dir, '--model', model, '--register', 'http://127.0.0.1:1/', '--steps', '4');
    assertOneLineError(r, /^codefudge: --register: backend http:\/\/127\.0\.0\.1:1 is unreachable/, { emptyStdout: true });
    assertOneLineError(await cli('adapt', repo.dir, '--register-name', 'x'), /--register-name needs --register URL/);
  });
});

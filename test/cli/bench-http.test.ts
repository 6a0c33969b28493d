// `codefudge bench http` runs end to end: a real serve --http process under 1 and 2 clients, and
// the in-process row beside it, every row with its request count and ordered percentiles.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeScriptedModel } from '../helpers/scripted-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-bench-http-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('bench http', () => {
  it('reports requests/s and p50/p95 per concurrency level beside in-process', { timeout: 120_000 }, async () => {
    const model = join(root, 'model');
    await makeScriptedModel(model, 'return x');
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          'bin/codefudge.js',
          'bench',
          'http',
          '--model',
          model,
          '--requests',
          '6',
          '--concurrency',
          '1,2',
          '--max-tokens',
          '4',
          '--threads',
          '1',
          '--json',
        ],
        { env: { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') } },
      );
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
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out);
    assert.deepEqual(
      report.levels.map((l: any) => l.clients),
      [1, 2],
    );
    for (const row of [report.inProcess, ...report.levels]) {
      assert.equal(row.requests, 6);
      assert.ok(row.requestsPerSecond > 0);
      assert.ok(row.p50 > 0 && row.p95 >= row.p50, JSON.stringify(row));
    }
  });
});

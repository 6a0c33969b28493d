import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { assertOneLineError, runCli } from '../helpers/cli.js';
import { referenceLogits } from '../helpers/reference-llama.js';

const root = mkdtempSync(join(tmpdir(), 'cf-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'model');
const tiny = makeTinyModel(model, { architecture: 'Qwen2ForCausalLM', layers: 1, seed: 11 });
const source = join(root, 'hello.py');
writeFileSync(source, 'def greet(name):\n    return "hi " + name\n');

const cli = (...args: string[]) => runCli(args, { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') });

function brokenModel(name: string, breakIt: (dir: string) => void): string {
  const dir = join(root, name);
  makeTinyModel(dir, { layers: 1, seed: 1 });
  breakIt(dir);
  return dir;
}

describe('codefudge complete', () => {
  it('prints the inserted text for FILE:LINE:COL', () => {
    const r = cli('complete', '--model', model, '--max-tokens', '5', `${source}:2:5`);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.endsWith('\n'));
  });

  it('rejects a position outside the file', () => {
    assertOneLineError(cli('complete', '--model', model, `${source}:9:1`), /line 9 is outside the file \(1-3\)/);
    assertOneLineError(cli('complete', '--model', model, `${source}:1:99`), /column 99 is outside the line/);
    assertOneLineError(cli('complete', '--model', model, `${source}`), /must be FILE:LINE:COL/);
  });

  it('rejects a missing model folder', () => {
    assertOneLineError(cli('complete', '--model', join(root, 'nope'), `${source}:1:1`), /model folder ".*nope" does not exist/);
  });

  it('rejects an unsupported architecture', () => {
    const dir = brokenModel('gpt2', (d) => {
      const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
      cfg.architectures = ['GPT2LMHeadModel'];
      writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
    });
    assertOneLineError(cli('complete', '--model', dir, `${source}:1:1`), /GPT2LMHeadModel.*not supported/);
  });

  it('rejects a truncated safetensors file', () => {
    const dir = brokenModel('truncated', (d) => {
      const f = join(d, 'model.safetensors');
      truncateSync(f, statSync(f).size - 100);
    });
    assertOneLineError(cli('complete', '--model', dir, `${source}:1:1`), /model\.safetensors/);
  });

  it('rejects a safetensors header that lies about its length', () => {
    const dir = brokenModel('lying', (d) => {
      const f = join(d, 'model.safetensors');
      const bytes = readFileSync(f);
      bytes.writeBigUInt64LE(BigInt(bytes.length * 4), 0);
      writeFileSync(f, bytes);
    });
    assertOneLineError(cli('complete', '--model', dir, `${source}:1:1`), /model\.safetensors.*header/);
  });
});

describe('codefudge inspect logits', () => {
  it('prints per-position logits that match the reference forward', () => {
    const r = cli('inspect', 'logits', '--model', model, '--ids', '1,2,3,40');
    assert.equal(r.code, 0, r.err);
    const rows = JSON.parse(r.out) as number[][];
    const ref = referenceLogits(tiny.config, tiny.tensors, [[1, 2, 3, 40]])[0];
    assert.equal(rows.length, 4);
    assert.equal(rows[0].length, tiny.config.vocabSize);
    rows.forEach((row, p) => row.forEach((v, i) => assert.ok(Math.abs(v - ref[p][i]) < 1e-4)));
  });

  it('rejects ids outside the vocabulary', () => {
    assertOneLineError(cli('inspect', 'logits', '--model', model, '--ids', '1,x'), /--ids: item 2/);
  });
});

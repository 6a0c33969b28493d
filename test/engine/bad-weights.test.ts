// Issue 13 item 5: broken weights and adapter settings are refused with one clear line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { openModelFolder, readPeftAdapter } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-bad-weights-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const oneLine = (pattern: RegExp) => (e: Error) => {
  assert.ok(e instanceof UserError, `not a UserError: ${e.stack}`);
  assert.match(e.message, pattern);
  assert.ok(!e.message.includes('\n'));
  return true;
};

/** A safetensors file of named F32 matrices. */
function safetensors(tensors: Record<string, { shape: number[]; data: number[] }>): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [k, t] of Object.entries(tensors)) {
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(Float32Array.from(Object.values(tensors).flatMap((t) => t.data)).buffer)]);
}

function adapter(name: string, config: Record<string, unknown>, a: number[], b: number[], r: number): string {
  const dir = join(root, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(
    join(dir, 'adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['q_proj'], ...config }),
  );
  const key = 'base_model.model.model.layers.0.self_attn.q_proj';
  fs.writeFileSync(
    join(dir, 'adapter_model.safetensors'),
    safetensors({
      [`${key}.lora_A.weight`]: { shape: [r, a.length / r], data: a },
      [`${key}.lora_B.weight`]: { shape: [b.length / r, r], data: b },
    }),
  );
  return dir;
}

it('an adapter with NaN, with a rank other than its config, or with a bad alpha_pattern regex', () => {
  assert.throws(() => readPeftAdapter(adapter('nan', {}, [1, 2, NaN, 4], [0, 0, 0, 0], 2)), oneLine(/NaN or infinite/));
  assert.throws(() => readPeftAdapter(adapter('inf', {}, [1, 2, 3, 4], [0, Infinity, 0, 0], 2)), oneLine(/NaN or infinite/));
  assert.throws(
    () => readPeftAdapter(adapter('rank', {}, [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 0], 3)),
    oneLine(/rank 3 but adapter_config.json says r = 2/),
  );
  assert.throws(
    () => readPeftAdapter(adapter('regex', { alpha_pattern: { 'q_proj(': 8 } }, [1, 2, 3, 4], [0, 0, 0, 0], 2)),
    oneLine(/not a valid regular expression/),
  );
  assert.equal(readPeftAdapter(adapter('fine', {}, [1, 2, 3, 4], [0, 0, 0, 0], 2)).spec.r, 2);
});

it('a FIFO as model.safetensors is refused instead of blocking', () => {
  const dir = join(root, 'model');
  makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 1, hidden: 16, heads: 2, kvHeads: 1, ffn: 24, seed: 1, tied: true });
  fs.rmSync(join(dir, 'model.safetensors'));
  execFileSync('mkfifo', [join(dir, 'model.safetensors')]);
  assert.throws(() => openModelFolder(dir), oneLine(/not a regular file/));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectFimTemplate, loadTokenizer } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

/** A vocabulary of exactly these tokens (what detection sees of a tokenizer). */
const vocab = (...tokens: string[]) => ({ tokenToId: (t: string) => (tokens.includes(t) ? tokens.indexOf(t) : undefined) });

const prefix = 'def area(r):\n    ';
const suffix = '\n    return a\n';

test('StarCoder style (also our own model): PSM and the SantaCoder/StarCoder SPM variant', () => {
  const fim = detectFimTemplate(vocab('<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<file_sep>'))!;
  assert.equal(fim.family, 'starcoder');
  assert.equal(fim.render(prefix, suffix), '<fim_prefix>def area(r):\n    <fim_suffix>\n    return a\n<fim_middle>');
  assert.equal(fim.render(prefix, suffix, 'spm'), '<fim_prefix><fim_suffix>\n    return a\n<fim_middle>def area(r):\n    ');
  assert.deepEqual(fim.modes, ['psm', 'spm']);
  assert.equal(fim.addBos, false);
  assert.deepEqual(fim.stopTokens, ['<|endoftext|>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<fim_pad>', '<file_sep>']);
});

test('Qwen2.5-Coder: <|fim_prefix|>…<|fim_suffix|>…<|fim_middle|>, PSM only', () => {
  const fim = detectFimTemplate(
    vocab(
      '<|endoftext|>',
      '<|im_start|>',
      '<|im_end|>',
      '<|fim_prefix|>',
      '<|fim_middle|>',
      '<|fim_suffix|>',
      '<|fim_pad|>',
      '<|repo_name|>',
      '<|file_sep|>',
    ),
  )!;
  assert.equal(fim.family, 'qwen');
  assert.equal(fim.render(prefix, suffix), '<|fim_prefix|>def area(r):\n    <|fim_suffix|>\n    return a\n<|fim_middle|>');
  assert.equal(fim.addBos, false);
  assert.deepEqual(fim.stopTokens, [
    '<|endoftext|>',
    '<|fim_prefix|>',
    '<|fim_suffix|>',
    '<|fim_middle|>',
    '<|fim_pad|>',
    '<|repo_name|>',
    '<|file_sep|>',
    '<|im_start|>',
    '<|im_end|>',
  ]);
  assert.throws(
    () => fim.render(prefix, suffix, 'spm'),
    (e: unknown) => e instanceof UserError && /"spm" is not supported by the qwen template/.test(e.message),
  );
});

test('DeepSeek-Coder: fullwidth bars and the ▁ block, BOS first', () => {
  const begin = '<\uFF5Cfim\u2581begin\uFF5C>';
  const hole = '<\uFF5Cfim\u2581hole\uFF5C>';
  const end = '<\uFF5Cfim\u2581end\uFF5C>';
  assert.equal(begin, '<｜fim▁begin｜>');
  const fim = detectFimTemplate(vocab('<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', hole, begin, end, '<|EOT|>'))!;
  assert.equal(fim.family, 'deepseek');
  assert.equal(fim.render(prefix, suffix), `${begin}def area(r):\n    ${hole}\n    return a\n${end}`);
  assert.equal(fim.addBos, true);
  assert.deepEqual(fim.stopTokens, ['<｜end▁of▁sentence｜>', '<|EOT|>', begin, hole, end]);
});

test('CodeLlama: "<PRE> {prefix} <SUF>{suffix} <MID>", its SPM form, and ▁-prefixed vocab entries', () => {
  for (const tokens of [
    ['<s>', '</s>', '<PRE>', '<SUF>', '<MID>', '<EOT>'],
    ['<s>', '</s>', '▁<PRE>', '▁<MID>', '▁<SUF>', '▁<EOT>'],
  ]) {
    const fim = detectFimTemplate(vocab(...tokens))!;
    assert.equal(fim.family, 'codellama');
    assert.equal(fim.render(prefix, suffix), '<PRE> def area(r):\n     <SUF>\n    return a\n <MID>');
    assert.equal(fim.render(prefix, suffix, 'spm'), '<PRE> <SUF>\n    return a\n <MID> def area(r):\n    ');
    assert.equal(fim.addBos, true);
    assert.deepEqual(fim.stopTokens, [tokens[5], '</s>']);
  }
});

test('no template without all three sentinels', () => {
  assert.equal(detectFimTemplate(vocab('<|endoftext|>', 'a', 'b')), undefined);
  assert.equal(detectFimTemplate(vocab('<fim_prefix>', '<fim_suffix>')), undefined);
  assert.equal(detectFimTemplate(vocab('<|fim_prefix|>', '<|fim_suffix|>', '<fim_middle>')), undefined);
});

test('with a real tokenizer the sentinels encode to their single ids', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-fim-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  makeTinyModel(dir, {});
  const tok = await loadTokenizer(dir);
  const fim = detectFimTemplate(tok)!;
  assert.equal(fim.family, 'starcoder');
  const ids = tok.encode(fim.render(prefix, suffix));
  assert.equal(ids[0], tok.tokenToId('<fim_prefix>'));
  assert.equal(ids.at(-1), tok.tokenToId('<fim_middle>'));
  assert.equal(ids.filter((id) => id === tok.tokenToId('<fim_suffix>')).length, 1);
  assert.equal(tok.decode(ids), fim.render(prefix, suffix));
});

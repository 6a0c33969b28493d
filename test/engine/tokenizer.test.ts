import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTokenizer, type Tokenizer } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { TINY_SPECIAL_TOKENS } from '../helpers/tiny-tokenizer.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-tokenizer-'));
const { config } = makeTinyModel(dir, { vocabSize: 320 });
let tok: Tokenizer;

test.before(async () => {
  // Loading must never touch the network: make any fetch fail loudly while it runs.
  const realFetch = globalThis.fetch;
  globalThis.fetch = () => {
    throw new Error('tokenizer loading tried the network');
  };
  try {
    tok = await loadTokenizer(dir);
  } finally {
    globalThis.fetch = realFetch;
  }
});
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

const samples = [
  'def add(a, b):\n    return a + b\n',
  '\tif (x) {\r\n\t\treturn;  \r\n}\n\n\n',
  '        deeply    spaced      text   ',
  'ünïcödé → λx. 中文字符 😀👍🏽 e\u0301',
  'a',
  ' ',
  '\n',
  '<<not special>> <fim_prefix_x> <|endoftext',
];

test('encode → decode round-trips code, unicode and whitespace runs exactly', () => {
  for (const text of samples) {
    const ids = tok.encode(text);
    assert.ok(ids.length > 0);
    assert.ok(
      ids.every((id) => Number.isInteger(id) && id >= 0 && id < config.vocabSize),
      `ids in range for ${JSON.stringify(text)}`,
    );
    assert.equal(tok.decode(ids), text);
  }
  assert.deepEqual(tok.encode(''), []);
  assert.equal(tok.decode([]), '');
});

test('merges shorten common code pieces; no BOS or EOS is added', () => {
  const text = 'def f():\n    return x';
  const ids = tok.encode(text);
  assert.ok(ids.length < Buffer.byteLength(text), `${ids.length} tokens for ${Buffer.byteLength(text)} bytes`);
  assert.ok(ids.some((id) => tok.idToToken(id) === 'return'));
  assert.equal(tok.encode('a').length, 1);
  assert.ok(!tok.encode('abc').includes(0));
});

test('special tokens: parsed from text, looked up both ways, skipped on request', () => {
  assert.deepEqual(
    TINY_SPECIAL_TOKENS.map((t) => tok.tokenToId(t)),
    [0, 1, 2, 3, 4],
  );
  assert.equal(tok.idToToken(3), '<fim_suffix>');
  assert.equal(tok.tokenToId('<fim_nonexistent>'), undefined);
  assert.equal(tok.idToToken(100000), undefined);
  const ids = tok.encode('<fim_prefix>x = 1<fim_suffix>\n<fim_middle>');
  assert.equal(ids[0], 1);
  assert.equal(ids.at(-1), 2);
  assert.ok(ids.includes(3));
  assert.equal(tok.decode(ids), '<fim_prefix>x = 1<fim_suffix>\n<fim_middle>');
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), 'x = 1\n');
  assert.deepEqual(tok.specialTokens, [...TINY_SPECIAL_TOKENS]);
  assert.deepEqual(tok.eosTokenIds, [0]);
  assert.equal(tok.bosTokenId, 0);
  assert.ok(tok.vocabSize > 261 && tok.vocabSize <= config.vocabSize);
});

test('a folder without tokenizer.json, or with a broken one, is a UserError', async (t) => {
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-tokenizer-'));
  t.after(() => fs.rmSync(other, { recursive: true, force: true }));
  const isUserError = (pattern: RegExp) => (e: unknown) => e instanceof UserError && pattern.test(e.message);
  await assert.rejects(loadTokenizer(other), isUserError(/has no tokenizer\.json/));
  fs.writeFileSync(path.join(other, 'tokenizer.json'), '{"model": ');
  await assert.rejects(loadTokenizer(other), isUserError(/tokenizer\.json is not valid JSON/));
  fs.writeFileSync(path.join(other, 'tokenizer.json'), '{"model": {"type": "NoSuchModel"}}');
  await assert.rejects(loadTokenizer(other), isUserError(/tokenizer\.json cannot be loaded/));
});

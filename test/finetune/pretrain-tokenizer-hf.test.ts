import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { BpeEncoder, readTokenizer, trainBpe, writeTokenizer, type BpeModel } from '../../finetune/pretrain/index.js';
import { createRng } from '../../common/index.js';
import { pythonModules } from '../helpers/pretrain-code-samples.js';

const dir = mkdtempSync(join(tmpdir(), 'cf-tok-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TRICKY = [
  'def f(x):\n    return x  # done\n',
  'class A:\r\n\tdef m(self):\r\n\t\tif self.x:\r\n\t\t\treturn "tabs & CRLF"\r\n',
  '\n'.repeat(3) + ' '.repeat(48) + 'deeply_nested = True\n' + ' '.repeat(52) + 'pass\n',
  's = "naïve café – 日本語のテキスト – Ελληνικά – emoji 😀🎉👩‍💻"\n',
  'x = 1 ;  y=2\t\t# trailing   \n\n\n',
  '\u00a0\u2003\u3000 odd spaces\v\f\u0085\u2028end',
  'prefix<|endoftext|>middle<fim_prefix>a<fim_suffix>b<fim_middle>c<fim_pad>',
  '<fim_prefix><fim_suffix>',
  'lone\rcarriage\rreturns\r',
  '\ufeffbom at the start',
  '',
  ' ',
  'x' + ' '.repeat(300) + 'y' + '\t'.repeat(20),
  '0x1F 3.14159 1_000_000 10e-3 ½ ² ٣',
];

function randomText(seed: number): string {
  const rng = createRng(seed);
  let s = '';
  for (let i = 0; i < 200; i++) {
    const r = rng();
    if (r < 0.5) s += String.fromCharCode(32 + Math.floor(rng() * 95));
    else if (r < 0.7) s += ' \n\t\r'[Math.floor(rng() * 4)];
    else s += String.fromCodePoint(0xa0 + Math.floor(rng() * 0x2ff00));
  }
  return s;
}

let model: BpeModel;
let ours: BpeEncoder;
let theirs: Tokenizer;
const readJson = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));

before(async () => {
  model = trainBpe(pythonModules(40, 1, 2500), { vocabSize: 1200 });
  writeTokenizer(dir, model);
  ours = new BpeEncoder(model);
  theirs = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
});

describe('tokenizer.json with @huggingface/tokenizers (the tokenizer of @huggingface/transformers)', () => {
  it('writes only the two files, no temporary leftovers', () => {
    assert.deepEqual(readdirSync(dir).sort(), ['tokenizer.json', 'tokenizer_config.json']);
  });

  it('loads with the specials at ids 0..4', () => {
    assert.equal(theirs.token_to_id(readJson('tokenizer_config.json').eos_token), 0);
    const ids = ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>'].map((t) => theirs.token_to_id(t));
    assert.deepEqual(ids, [0, 1, 2, 3, 4]);
    assert.equal(theirs.get_vocab().size, model.vocab.length);
    assert.ok(model.vocab.length > 600, `${model.vocab.length} tokens`);
  });

  it('encodes exactly as our encoder does, on tricky, held-out and random text', () => {
    const texts = [...TRICKY, ...pythonModules(10, 500, 2500), ...[1, 2, 3, 4, 5].map(randomText)];
    for (const text of texts) {
      const expected = theirs.encode(text, { add_special_tokens: false }).ids;
      assert.deepEqual(ours.encode(text), expected, JSON.stringify(text.slice(0, 60)));
    }
  });

  it('round-trips decode(encode(x)) == x both ways, with no unknown tokens', () => {
    const texts = [...TRICKY, ...[6, 7, 8].map(randomText)].filter((t) => t.length > 0);
    for (const text of texts) {
      const ids = ours.encode(text);
      assert.ok(ids.every((id) => id >= 0 && id < model.vocab.length));
      assert.equal(theirs.decode(ids), text, JSON.stringify(text.slice(0, 60)));
      assert.equal(ours.decode(ids), text, JSON.stringify(text.slice(0, 60)));
    }
  });

  it('encodes indentation and newline + indentation as single tokens', () => {
    for (const piece of ['\n    ', '\n        ', '\n            ']) {
      assert.equal(theirs.encode(piece, { add_special_tokens: false }).ids.length, 1, JSON.stringify(piece));
    }
    const ids = ours.encode('if x:\n        return y\n');
    assert.ok(ids.map((id) => ours.decode([id])).includes('\n        '));
  });

  it('keeps special-token text as plain bytes in encodeOrdinary', () => {
    const ids = ours.encodeOrdinary('a<|endoftext|>b');
    assert.ok(!ids.includes(0));
    assert.equal(ours.decode(ids), 'a<|endoftext|>b');
    assert.deepEqual(ours.encode('a<|endoftext|>b'), [...ours.encode('a'), 0, ...ours.encode('b')]);
  });

  it('reads back the model it wrote', () => {
    assert.deepEqual(readTokenizer(dir), model);
  });
});

// suggest-diff end to end on a scripted repository whose history teaches one edit: every
// "register <name>" commit appends `reg("<name>")` to plugins/<name>.py. After `adapt` (the real
// pipeline, on the tiny model), held-out commit messages get diffs that apply, where the base
// model's do not; the CLI prints a diff GNU patch applies, and --apply writes it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adapt, defaultAdapterDir, type AdaptResult } from '../../finetune/index.js';
import { suggestDiffInRepo, type RepoSuggestion } from '../../suggest/index.js';
import { gnuPatch } from '../helpers/diff-tools.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';
import { BIN, testRoot, tinyModel } from '../helpers/adapt-fixtures.js';

const NAMES = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'eps',
  'zeta',
  'eta',
  'theta',
  'iota',
  'kappa',
  'lamda',
  'mu',
  'nu',
  'xi',
  'omicron',
  'pi',
  'rho',
  'sigma',
  'tau',
  'upsilon',
  'phi',
  'chi',
  'psi',
  'omega',
];
/** Plugins never registered: more held-out requests of the same kind. */
const UNREGISTERED = ['red', 'green', 'blue', 'cyan', 'pink'];
const TEMPLATE = 'from app import reg\n\n\ndef setup():\n    pass\n';

const { root, env } = testRoot('cf-suggest-pipe-');
const model = tinyModel(join(root, 'model'));
let repo: ScriptedRepo;
let adapted: AdaptResult;
/** Held-out commits: message, file, the file before and the real diff. */
let heldout: { message: string; path: string; before: string; diff: string }[] = [];

before(async () => {
  repo = new ScriptedRepo('cf-suggest-pipe-repo-');
  for (const n of [...NAMES, ...UNREGISTERED]) repo.write(`plugins/${n}.py`, TEMPLATE);
  repo.commit('plugin skeletons');
  for (const n of NAMES) {
    repo.write(`plugins/${n}.py`, `${TEMPLATE}reg("${n}")\n`);
    repo.commit(`register ${n}`);
  }
  adapted = await adapt({
    repo: repo.dir,
    model,
    steps: 100,
    lr: 2e-2,
    seq: 256,
    batch: 8,
    gradAccum: 1,
    commitDiffShare: 1,
    split: { holdoutPercent: 10 },
    session: { threads: 1 },
  });
  const shas = repo.git('rev-list', '--reverse', `${adapted.trainedThrough}..HEAD`).trim().split('\n');
  heldout = shas.map((sha) => {
    const message = repo.git('log', '-1', '--format=%s', sha).trim();
    const path = `plugins/${message.split(' ')[1]}.py`;
    return {
      message,
      path,
      before: repo.git('show', `${sha}^:${path}`),
      diff: repo.git('diff', '--src-prefix=a/', '--dst-prefix=b/', `${sha}^`, sha).replace(/^[\s\S]*?(?=^--- )/m, ''),
    };
  });
});
after(() => {
  repo.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Suggests with the file set to `before`, then puts the committed content back. */
async function suggestOn(path: string, before: string, message: string, adapterDir?: null): Promise<RepoSuggestion> {
  const file = join(repo.dir, path);
  const committed = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, before);
  try {
    return await suggestDiffInRepo({ repo: repo.dir, file: path, message, model, adapterDir, maxNewTokens: 100, session: { threads: 1 } });
  } finally {
    fs.writeFileSync(file, committed);
  }
}

interface Request {
  path: string;
  before: string;
  message: string;
  diff?: string;
}
const requests = (): Request[] => [
  ...heldout,
  ...UNREGISTERED.map((n) => ({ path: `plugins/${n}.py`, before: TEMPLATE, message: `register ${n}` })),
];

/** Each request's suggestion with the repository's adapter and with the base model alone, made once. */
let answers: Promise<{ request: Request; adapter: RepoSuggestion; base: RepoSuggestion }[]> | undefined;
function suggestAll() {
  answers ??= (async () => {
    const out = [];
    for (const request of requests()) {
      const { path, before, message } = request;
      out.push({ request, adapter: await suggestOn(path, before, message), base: await suggestOn(path, before, message, null) });
    }
    return out;
  })();
  return answers;
}

describe('suggest-diff after adapt', () => {
  it("trained the repository's adapter on its commit->diff history", () => {
    assert.equal(adapted.status, 'trained');
    assert.ok(adapted.examples.commitDiff >= 20, JSON.stringify(adapted.examples));
    assert.ok(heldout.length >= 2, `${heldout.length} held-out commits`);
    assert.ok(fs.existsSync(join(defaultAdapterDir(repo.dir), 'adapter_config.json')));
  });

  it('answers held-out commit messages with diffs that apply where the real ones did', async () => {
    const held = (await suggestAll()).filter((a) => a.request.diff);
    let applied = 0;
    for (const { request: h, adapter: s } of held) {
      assert.equal(s.adapterDir, defaultAdapterDir(repo.dir), "the repository's own adapter by default");
      if (!s.applied) continue;
      applied++;
      const hunkHeader = (d: string) => /^@@ [^@]+ @@/m.exec(d)?.[0];
      assert.equal(hunkHeader(s.applied.diff), hunkHeader(h.diff!), `${s.applied.diff}\nreal:\n${h.diff}`);
      assert.ok(s.applied.after.startsWith(h.before));
      assert.match(s.applied.after.slice(h.before.length), /^reg/, "the added line is the pattern's, or close to it (a tiny model)");
      assert.equal(gnuPatch(root, h.before, s.applied.diff.replaceAll(h.path, 'f')), s.applied.after);
    }
    assert.ok(applied >= Math.max(1, held.length - 1), `${applied} of ${held.length} held-out commits`);
  });

  it('applies on held-out requests where the base model does not', async () => {
    const all = await suggestAll();
    const adapter = all.filter((a) => a.adapter.applied).length;
    const base = all.filter((a) => a.base.applied).length;
    assert.ok(all.every((a) => a.base.adapterDir === null));
    assert.ok(adapter >= all.length / 2 && adapter >= base + 3, `apply rate: adapter ${adapter}/${all.length}, base ${base}/${all.length}`);
  });

  it('prints a diff from the command line that patch -p1 applies, and writes it with --apply', async () => {
    // A request the adapter answers and the base model does not.
    const target = (await suggestAll()).find((a) => a.adapter.applied && !a.base.applied)?.request;
    assert.ok(target);
    const file = join(repo.dir, target.path);
    fs.writeFileSync(file, target.before);
    fs.chmodSync(file, 0o755);
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [
          BIN,
          'suggest-diff',
          '--repo',
          repo.dir,
          '--file',
          target!.path,
          '--message',
          target!.message,
          '--model',
          model,
          '--max-tokens',
          '100',
          '--threads',
          '1',
          ...args,
        ],
        { env, encoding: 'utf8' },
      );
    const shown = cli();
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^--- a/${target.path}\n\\+\\+\\+ b/${target.path}\n@@ `));
    assert.match(shown.stderr, /adapter .*\.codefudge\/adapter; candidate \d applied/);
    const patched = gnuPatch(root, target.before, shown.stdout.replaceAll(target.path, 'f'));
    assert.ok(patched !== null && patched !== target.before);
    assert.equal(fs.readFileSync(file, 'utf8'), target.before, 'nothing written without --apply');

    const applied = cli('--apply');
    assert.equal(applied.status, 0, applied.stderr);
    assert.equal(applied.stdout, shown.stdout);
    assert.equal(fs.readFileSync(file, 'utf8'), patched);
    assert.equal(fs.statSync(file).mode & 0o777, 0o755, 'the file keeps its mode');
    assert.deepEqual(
      fs.readdirSync(join(repo.dir, 'plugins')).filter((f) => f.startsWith('.')),
      [],
      'no temp file left',
    );

    // The base model's beams do not apply: said in one line, exit 1, the file untouched.
    fs.writeFileSync(file, target.before);
    const none = cli('--no-adapter', '--apply');
    assert.equal(none.status, 1);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /^codefudge: no suggested diff applies to plugins\/\w+\.py \(\d candidates?: [^\n]+\)\n$/);
    assert.equal(fs.readFileSync(file, 'utf8'), target.before);
    repo.git('checkout', '--', target.path);
  });
});

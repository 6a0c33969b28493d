// Issue 13: a full disk (ENOSPC) or a read-only file system (EROFS) on any path `adapt` writes
// is one line naming the path and the cause, and leaves no temporary or half-written file. The
// real file systems come from a private user and mount namespace (`unshare`), where a tmpfs can
// be mounted small or read-only even when the tests run as root (root ignores chmod 0555).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { cannotWrite, UserError } from '../../common/index.js';
import { BIN, FAST_FLAGS, patternRepo, testRoot, tinyModel } from '../helpers/adapt-fixtures.js';

const { root, env } = testRoot('cf-adapt-write-');
const mountPoint = join(root, 'mnt');
fs.mkdirSync(mountPoint);
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Runs the shell `script` in a private user and mount namespace, with $M the (empty) mount point. */
function inNamespace(script: string) {
  return spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-ec', script], {
    env: { ...env, M: mountPoint, NODE: process.execPath },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

const canMount = inNamespace('mount -t tmpfs -o size=4k tmpfs "$M"').status === 0;
const skip = canMount ? false : 'no private mount namespace here (unshare --user --mount refused)';

const FULL = 'mount -t tmpfs -o size=4k tmpfs "$M"; head -c 4096 /dev/zero > "$M/filler"';
const READ_ONLY_AFTER = (prepare: string) => `mount -t tmpfs tmpfs "$M"; ${prepare}; mount -o remount,ro "$M"`;
const LEFTOVERS = 'echo "--- left:"; find "$M" \\( -name "*.tmp" -o -name "*.tmp-*" -o -name adapt.lock \\) -print';

interface Outcome {
  name: string;
  ok?: true;
  user?: boolean;
  message?: string;
}

/** Each writer's outcome on the file system `setup` mounts, and what was left behind. */
function writersOn(setup: string, dir: string): { outcomes: Outcome[]; left: string[] } {
  const child = resolve('dist/test/helpers/write-failures-child.js');
  const r = inNamespace(`${setup}; "$NODE" ${child} "$M/${dir}"; ${LEFTOVERS}`);
  assert.equal(r.status, 0, r.stderr);
  const [json, left] = r.stdout.split('--- left:\n');
  return {
    outcomes: json
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    left: left.split('\n').filter(Boolean),
  };
}

const EXPECTED_PATHS: Record<string, RegExp> = {
  lock: /^cannot write to the output folder \/\S+\/adapter: CAUSE; pass --out DIR to write elsewhere$/,
  gitignore: /^cannot write \/\S+\/\.gitignore: CAUSE$/,
  plan: /^cannot write \/\S+\/adapter\/\.checkpoint\/run\.json: CAUSE$/,
  checkpoint: /^cannot write \/\S+\/adapter\/\.checkpoint\/state-00000001\.safetensors: CAUSE$/,
  adapter: /^cannot write \/\S+\/adapter\/adapter_model\.safetensors: CAUSE$/,
  'training log': /^cannot write \/\S+\/adapter\/training-log\.json: CAUSE$/,
  jsonl: /^cannot write \/\S+\/export\/train\.jsonl: CAUSE$/,
};

function assertOneLineEach(outcomes: Outcome[], cause: string, paths: Record<string, RegExp> = EXPECTED_PATHS): void {
  assert.deepEqual(outcomes.map((o) => o.name).sort(), Object.keys(EXPECTED_PATHS).sort());
  for (const o of outcomes) {
    if (!(o.name in paths)) continue;
    assert.ok(o.user, `${o.name}: not a one-line UserError:\n${o.message ?? 'it succeeded'}`);
    assert.match(o.message!, new RegExp(paths[o.name].source.replace('CAUSE', cause)), o.name);
  }
}

describe('adapt on a full or read-only file system', () => {
  it('the file-system error of a write becomes one line naming the file and the cause (ENOSPC from /dev/full)', () => {
    const fd = fs.openSync('/dev/full', 'w');
    let error: unknown;
    try {
      fs.writeSync(fd, 'x');
    } catch (e) {
      error = e;
    } finally {
      fs.closeSync(fd);
    }
    const line = cannotWrite('/dev/full', error);
    assert.ok(line instanceof UserError);
    assert.equal(line.message, 'cannot write /dev/full: no space left on the device');
    const bug = new TypeError('not a file-system error');
    assert.equal(cannotWrite('/x', bug), bug, 'other errors pass through, stack and all');
  });

  it('every writer adapt uses: lock, .gitignore, plan, checkpoint, adapter, training log, JSONL', { skip }, () => {
    const full = writersOn(FULL, 'work');
    assertOneLineEach(full.outcomes, 'no space left on the device');
    assert.deepEqual(full.left, [], 'no temporary file or lock left');

    const readOnly = writersOn(READ_ONLY_AFTER('mkdir -p "$M/work/adapter/.checkpoint" "$M/work/export"'), 'work');
    assertOneLineEach(readOnly.outcomes, 'read-only file system');
    assert.deepEqual(readOnly.left, []);

    // Nothing there yet: the folders cannot be made either (Node 20's recursive mkdir calls that ENOENT).
    const bare = writersOn(READ_ONLY_AFTER('mkdir "$M/bare"'), 'bare');
    assertOneLineEach(bare.outcomes, 'read-only file system', {
      ...EXPECTED_PATHS,
      plan: /^cannot create the folder \/\S+\/adapter\/\.checkpoint: CAUSE$/,
      checkpoint: /^cannot create the folder \/\S+\/adapter\/\.checkpoint: CAUSE$/,
      adapter: /^cannot create the folder \/\S+\/adapter: CAUSE$/,
      jsonl: /^cannot write to output folder \/\S+\/export: CAUSE$/,
      // (adapt writes its training log after the adapter, into the folder that write made)
      'training log': /^cannot write \/\S+\/adapter\/training-log\.json: a folder on the path does not exist$/,
    });
  });

  describe('codefudge adapt: one line on stderr, exit 1, nothing half-written', { skip }, () => {
    const model = tinyModel(join(root, 'model'));
    const repo = patternRepo(6);
    after(() => repo.cleanup());
    const adapt = (out: string) =>
      `"$NODE" ${BIN} adapt ${repo.dir} --model ${model} ${FAST_FLAGS.join(' ')} --steps 2 --quiet --out ${out}`;

    /** Runs adapt in the namespace; its stderr, exit status and what was left on the mount. */
    function run(setup: string, command: string): { err: string; code: number; left: string[]; files: string } {
      const r = inNamespace(
        `${setup}; set +e; ${command} 2>"$M/../stderr"; echo "exit $?"; ${LEFTOVERS}; echo "--- files:"; find "$M" -type f`,
      );
      assert.equal(r.status, 0, r.stderr);
      const [head, rest] = r.stdout.split('--- left:\n');
      const [left, files] = rest.split('--- files:\n');
      return {
        err: fs.readFileSync(join(root, 'stderr'), 'utf8'),
        code: Number(/exit (\d+)/.exec(head)![1]),
        left: left.split('\n').filter(Boolean),
        files,
      };
    }

    const assertOneLine = (r: { err: string; code: number }, pattern: RegExp) => {
      assert.equal(r.code, 1, r.err);
      const lines = r.err.trim().split('\n');
      assert.equal(lines.length, 1, `expected one line, got:\n${r.err}`);
      assert.match(lines[0], pattern);
    };

    it('a read-only output folder', () => {
      const r = run('mount -t tmpfs -o ro tmpfs "$M"', adapt('"$M/adapter"'));
      assertOneLine(
        r,
        /^codefudge: cannot write to the output folder \/\S+\/mnt\/adapter: read-only file system; pass --out DIR to write elsewhere$/,
      );
    });

    it('a read-only graph cache, the created output folder taken back', () => {
      const out = join(root, 'out-ro-cache');
      const r = run('mount -t tmpfs -o ro tmpfs "$M"', `CODEFUDGE_CACHE="$M/cache" ${adapt(out)}`);
      assertOneLine(r, /^codefudge: cannot write \/\S+\/mnt\/cache\/graphs\/[0-9a-f]+: read-only file system$/);
      assert.ok(!fs.existsSync(out), 'the output folder this run made is removed');
    });

    it('a disk that fills up at the first checkpoint: the plan beside it is whole, no temporary file or lock is left', () => {
      const r = run('mount -t tmpfs -o size=16k tmpfs "$M"', adapt('"$M/adapter"'));
      assertOneLine(
        r,
        /^codefudge: cannot write \/\S+\/mnt\/adapter\/\.checkpoint\/state-00000001\.safetensors: no space left on the device$/,
      );
      assert.deepEqual(r.left, []);
      assert.deepEqual(r.files.trim().split('\n'), [`${mountPoint}/adapter/.checkpoint/run.json`]);
    });
  });
});

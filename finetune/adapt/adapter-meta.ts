// What an adapter folder says about itself in codefudge.json: the base model it belongs to and
// the commit it was trained through, so `adapt` can refresh it and refuse it for another model.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ADAPTER_CONFIG, readPeftAdapter, type LoraAdapter } from '../../engine/index.js';
import { UserError } from '../../common/index.js';

export interface BaseModelRef {
  /** Content fingerprint (config, tokenizer, weight files), the same wherever the folder is. */
  fingerprint: string;
  /** What the user named it: a hub id, a folder, or the embedded model's name. */
  name: string;
  /** The folder it was loaded from. */
  path: string;
}

export interface AdaptRunRecord {
  kind: 'full' | 'refresh';
  since: string | null;
  through: string;
  steps: number;
  finished: string;
}

export interface AdapterMeta {
  format: 1;
  base_model: BaseModelRef;
  repository: string;
  /** Newest training commit whose history the adapter has learned. */
  trained_through: string;
  trained_through_date: string | null;
  /** Every run that trained it, oldest first. */
  runs: AdaptRunRecord[];
  [key: string]: unknown;
}

const hint = '; pass --from-scratch to replace it, or --out DIR to write elsewhere';

function parseMeta(json: Record<string, unknown> | undefined, dir: string): AdapterMeta {
  if (!json) throw new UserError(`${dir} holds an adapter that codefudge adapt did not write (no codefudge.json)${hint}`);
  const base = json.base_model as Partial<BaseModelRef> | undefined;
  if (json.format !== 1 || typeof base?.fingerprint !== 'string' || typeof json.trained_through !== 'string') {
    throw new UserError(`${path.join(dir, 'codefudge.json')} does not say which base model and commit the adapter belongs to${hint}`);
  }
  return { ...json, runs: Array.isArray(json.runs) ? json.runs : [] } as AdapterMeta;
}

/** The adapter in `dir` with its metadata, or undefined when the folder holds none. */
export function existingAdapter(dir: string): { adapter: LoraAdapter; meta: AdapterMeta } | undefined {
  if (!fs.existsSync(path.join(dir, ADAPTER_CONFIG))) return undefined;
  const adapter = readPeftAdapter(dir);
  return { adapter, meta: parseMeta(adapter.codefudge, dir) };
}

/** Refuses an adapter trained on another base model. */
export function checkSameBase(meta: AdapterMeta, base: BaseModelRef, dir: string): void {
  const had = meta.base_model;
  if (had.fingerprint === base.fingerprint) return;
  throw new UserError(
    `the adapter in ${dir} belongs to base model ${had.name ?? '?'} (fingerprint ${had.fingerprint}), not ${base.name} (${base.fingerprint})${hint}`,
  );
}

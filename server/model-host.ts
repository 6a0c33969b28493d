// The model the server completes with: loaded in the background, replaced when the `model`
// setting changes, and given the adapter the workspace asks for. A model that fails to load is
// reported once and leaves the server answering empty results.
import { Completer, modelDirFor, type Device, type QuantMode } from '../engine/index.js';
import { messageOf } from '../common/index.js';
import type { Mutex } from './request-queue.js';

export interface ModelHostOptions {
  threads?: number;
  device?: Device;
  /** Serialises loads and adapter swaps with generation (they share the model). */
  mutex: Mutex;
  log: (message: string) => void;
  /** Called with a one-line reason when the model or an adapter cannot be used. */
  onFailure: (message: string) => void;
}

export type ModelState = 'loading' | 'ready' | 'failed';
export type AdapterState = 'none' | 'active' | 'failed';

export interface ModelStatus {
  spec: string | null;
  dir: string | null;
  state: ModelState;
  error: string | null;
  loadMilliseconds: number | null;
  /** The loaded weights' width (int4, int8, none), once loaded. */
  quant: QuantMode | null;
  adapter: string | null;
  adapterState: AdapterState;
  adapterError: string | null;
}

export class ModelHost {
  private spec: string | undefined;
  private loading?: Promise<Completer | undefined>;
  private dir?: string;
  private state: ModelState = 'loading';
  private error?: string;
  private loadMilliseconds?: number;
  /** The adapter wanted (folder + fingerprint of its files) and what became of it. */
  private wantedAdapter?: { dir: string; stamp: string };
  private appliedAdapter?: string;
  private adapterState: AdapterState = 'none';
  private adapterError?: string;
  /** The `quant` asked for (undefined: by model size) and the mode the loaded model got. */
  private quant?: QuantMode;
  private loadedQuant?: QuantMode;

  constructor(private readonly opts: ModelHostOptions) {}

  /** Loads the model `spec` (a folder or hub id; undefined: the embedded model) unless it is the one loaded. */
  use(spec: string | undefined, quant?: QuantMode): void {
    if (this.loading && spec === this.spec && quant === this.quant) return;
    this.spec = spec;
    this.quant = quant;
    const previous = this.loading;
    this.state = 'loading';
    this.loading = this.opts.mutex.run(async () => {
      const old = await previous;
      if (old) await old.release().catch(() => undefined);
      this.appliedAdapter = undefined;
      const t0 = performance.now();
      try {
        this.dir = await modelDirFor(spec);
        const completer = await Completer.load(this.dir, { threads: this.opts.threads, device: this.opts.device, quant });
        this.loadedQuant = completer.model.quant;
        this.loadMilliseconds = performance.now() - t0;
        this.state = 'ready';
        this.error = undefined;
        this.opts.log(`model ${this.dir} loaded in ${Math.round(this.loadMilliseconds)} ms`);
        await this.applyAdapter(completer);
        return completer;
      } catch (e) {
        this.state = 'failed';
        this.error = messageOf(e);
        this.opts.onFailure(`codefudge: cannot load the model: ${this.error}`);
        return undefined;
      }
    });
  }

  /** The loaded model, once loading has finished; undefined when there is none. */
  async completer(): Promise<Completer | undefined> {
    return this.loading;
  }

  /** Uses the adapter in `dir` (undefined: none); `stamp` identifies its files, so a rewritten adapter is reloaded. */
  async setAdapter(dir: string | undefined, stamp = ''): Promise<void> {
    const same = dir === this.wantedAdapter?.dir && stamp === this.wantedAdapter?.stamp;
    if (same || (!dir && !this.wantedAdapter)) return;
    this.wantedAdapter = dir ? { dir, stamp } : undefined;
    const loading = this.loading;
    if (!loading) return;
    await this.opts.mutex.run(async () => {
      const completer = await loading;
      if (completer && this.loading === loading) await this.applyAdapter(completer);
    });
  }

  private async applyAdapter(completer: Completer): Promise<void> {
    const wanted = this.wantedAdapter;
    const key = wanted ? `${wanted.dir}#${wanted.stamp}` : undefined;
    if (key === this.appliedAdapter) return;
    try {
      // Adapters are graph inputs: the swap keeps the base model and its compiled graph.
      await completer.setAdapter(wanted?.dir);
      this.adapterState = wanted ? 'active' : 'none';
      this.adapterError = undefined;
      this.opts.log(wanted ? `adapter ${wanted.dir} loaded` : 'adapter removed');
    } catch (e) {
      this.adapterState = 'failed';
      this.adapterError = messageOf(e);
      this.opts.onFailure(`codefudge: cannot load the adapter ${wanted?.dir}: ${this.adapterError}`);
    }
    this.appliedAdapter = key;
  }

  status(): ModelStatus {
    return {
      spec: this.spec ?? null,
      dir: this.dir ?? null,
      state: this.state,
      error: this.error ?? null,
      loadMilliseconds: this.loadMilliseconds === undefined ? null : Math.round(this.loadMilliseconds),
      quant: this.state === 'ready' ? (this.loadedQuant ?? null) : null,
      adapter: this.wantedAdapter?.dir ?? null,
      adapterState: this.adapterState,
      adapterError: this.adapterError ?? null,
    };
  }

  async release(): Promise<void> {
    const completer = await this.loading;
    this.loading = undefined;
    await completer?.release().catch(() => undefined);
  }
}

// The LoRA adapters `codefudge serve --http` serves by name, as vLLM does: loaded from PEFT folders
// (at start with --lora, or by POST /v1/load_lora_adapter), chosen per request by `model`.
// Loading checks the folder against the base model, so a request never meets a broken adapter;
// swapping between adapters only changes the graph's adapter inputs (no recompile).
import { resolve } from 'node:path';
import { attachAdapter, readPeftAdapter, type ModelConfig } from '../../engine/index.js';
import { messageOf } from '../../common/index.js';
import { HttpError } from './http-errors.js';

export interface ServedAdapter {
  name: string;
  dir: string;
  created: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

export class AdapterRegistry {
  private readonly adapters = new Map<string, ServedAdapter>();

  constructor(
    private readonly config: ModelConfig,
    private readonly baseName: string,
  ) {}

  list(): ServedAdapter[] {
    return [...this.adapters.values()];
  }

  get(name: string): ServedAdapter | undefined {
    return this.adapters.get(name);
  }

  load(name: unknown, path: unknown): ServedAdapter {
    if (typeof name !== 'string' || !NAME.test(name))
      throw new HttpError(400, 'lora_name must be a name of letters, digits and ._:/- (at most 128 characters)', 'lora_name');
    if (typeof path !== 'string' || path === '')
      throw new HttpError(400, 'lora_path must be the path of a PEFT adapter folder', 'lora_path');
    if (name === this.baseName) throw new HttpError(400, `lora_name "${name}" is the base model's name`, 'lora_name');
    if (this.adapters.has(name))
      throw new HttpError(400, `The lora adapter '${name}' has already been loaded.`, 'lora_name', 'adapter_exists');
    const dir = resolve(path);
    try {
      // Reads and checks the whole adapter now: shapes against this base model included.
      attachAdapter(this.config, readPeftAdapter(dir));
    } catch (e) {
      throw new HttpError(400, `cannot load the adapter ${dir}: ${messageOf(e)}`, 'lora_path', 'invalid_adapter');
    }
    const adapter = { name, dir, created: Math.floor(Date.now() / 1000) };
    this.adapters.set(name, adapter);
    return adapter;
  }

  unload(name: unknown): void {
    if (typeof name !== 'string') throw new HttpError(400, 'lora_name must be a string', 'lora_name');
    if (!this.adapters.delete(name))
      throw new HttpError(404, `The lora adapter '${name}' cannot be found.`, 'lora_name', 'model_not_found');
  }
}

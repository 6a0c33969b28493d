// The workspace's configuration: its root, the settings the client sent, and the adapter they
// (or the workspace's .codefudge/adapter/ folder) ask for, watched for changes.
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InitializeParams } from 'vscode-languageserver/node';
import { watchAdapter, workspaceAdapterDir, type AdapterWatch } from './adapter-watch.js';
import { DEFAULT_SETTINGS, mergeSettings, type Settings } from './settings.js';

export function workspaceRoot(params: InitializeParams): string | undefined {
  const uri = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
  if (uri?.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      return undefined;
    }
  }
  return params.rootPath ?? undefined;
}

export interface WorkspaceOptions {
  log: { info(line: string): void; warn(line: string): void };
  /** Use this adapter folder (stamp: a fingerprint of its files), or none. */
  setAdapter: (dir: string | undefined, stamp?: string) => void;
  /** Settings named in `changed` took new values. */
  changed: (changed: (keyof Settings)[]) => void;
  adapterPollMs?: number;
}

export class Workspace {
  root: string | undefined;
  settings: Settings = { ...DEFAULT_SETTINGS };
  private watch?: AdapterWatch;

  constructor(private readonly opts: WorkspaceOptions) {}

  /** Merges settings from the client, reporting what it ignored. */
  apply(raw: unknown, source: string): void {
    const merged = mergeSettings(this.settings, raw);
    for (const p of merged.problems) this.opts.log.warn(`${source}: ${p}`);
    this.settings = merged.settings;
    if (merged.changed.length === 0) return;
    this.opts.log.info(`${source}: ${merged.changed.map((k) => `${k}=${JSON.stringify(this.settings[k])}`).join(', ')}`);
    this.opts.changed(merged.changed);
    if (merged.changed.includes('adapter')) this.refreshAdapter();
  }

  /** Watches the adapter folder the settings name (or the workspace's own), replacing any earlier watch. */
  refreshAdapter(): void {
    this.watch?.stop();
    this.watch = undefined;
    const setting = this.settings.adapter;
    const root = this.root;
    if (setting === false || (setting === undefined && !root)) {
      this.opts.setAdapter(undefined);
      return;
    }
    const dir =
      setting === undefined ? workspaceAdapterDir(root!) : isAbsolute(setting) ? setting : resolvePath(root ?? process.cwd(), setting);
    this.watch = watchAdapter(
      dir,
      (stamp) => {
        if (!stamp && setting !== undefined)
          this.opts.log.warn(`adapter folder ${dir} has no adapter_config.json and adapter_model.safetensors`);
        this.opts.setAdapter(stamp ? dir : undefined, stamp);
      },
      this.opts.adapterPollMs,
    );
  }

  /** Looks at the adapter folder now (after an adaptation wrote it). */
  checkAdapter(): void {
    this.watch?.check();
  }

  stop(): void {
    this.watch?.stop();
  }
}

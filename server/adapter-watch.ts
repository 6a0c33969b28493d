// The workspace's adapter folder (`<root>/.codefudge/adapter/`, what `codefudge adapt` writes):
// found when present, and noticed again whenever its files change (polled: the folder may not
// exist yet, and file watchers on missing folders differ from one platform to the next).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, workspaceAdapterDir } from '../engine/index.js';

/** The files of a PEFT adapter folder; it counts as present only when both are there. */
export const ADAPTER_FILES = [ADAPTER_CONFIG, ADAPTER_WEIGHTS] as const;

export { workspaceAdapterDir };

/** A fingerprint of the adapter's files (sizes and modification times), or undefined when incomplete. */
export function adapterStamp(dir: string): string | undefined {
  const parts: string[] = [];
  for (const name of ADAPTER_FILES) {
    try {
      const s = statSync(join(dir, name));
      if (!s.isFile()) return undefined;
      parts.push(`${s.size}:${s.mtimeMs}`);
    } catch {
      return undefined;
    }
  }
  return parts.join('/');
}

export interface AdapterWatch {
  /** Looks now (e.g. right after `codefudge adapt` finished). */
  check(): void;
  stop(): void;
}

/** Calls `onChange(stamp)` at once and then whenever the adapter in `dir` appears, changes or goes. */
export function watchAdapter(dir: string, onChange: (stamp: string | undefined) => void, intervalMs = 2000): AdapterWatch {
  let last: string | undefined | null = null;
  const check = () => {
    const stamp = adapterStamp(dir);
    if (stamp === last) return;
    last = stamp;
    onChange(stamp);
  };
  check();
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}

// Headless Neovim for the editor tests: where it is, and how to start it on an init file.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The nvim binary, or undefined when Neovim is not installed. */
export const nvim =
  ['/usr/bin/nvim', '/usr/local/bin/nvim'].find((p) => existsSync(p)) ??
  (spawnSync('nvim', ['--version']).status === 0 ? 'nvim' : undefined);

/**
 * Arguments for a clean headless Neovim on `init`. Its remote-plugin providers stay off: probing
 * them runs `python3`, `python3.10`, ... once each, and where these are pyenv shims every probe is
 * dozens of bash processes (about 400 per Neovim start on the CI image). No client uses a provider.
 */
export function nvimArgs(init: string): string[] {
  const off = ['python3', 'node', 'perl', 'ruby'].map((p) => `let g:loaded_${p}_provider = 0`).join(' | ');
  return ['--headless', '--clean', '--cmd', off, '-u', init];
}

// adapt's --register URL: load the trained adapter into a running vLLM under a name.
import { UserError } from '../common/index.js';
import { adapterNameFor, BackendError, checkRegisterTarget, registerAdapter } from '../server/index.js';
import { join, resolve } from 'node:path';
import { givenFrom, type FlagValues, type OptionTable } from './flags.js';

export const registerFlags = {
  options: {
    register: { type: 'string' },
    'register-name': { type: 'string' },
    'register-path': { type: 'string' },
    'register-key': { type: 'string' },
  } satisfies OptionTable,
  help: `  --register URL       afterwards load the adapter into the vLLM server at URL (POST /v1/load_lora_adapter;
                       start vLLM with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True)
  --register-name NAME its name there, sent as "model" (default: the repository folder's name)
  --register-path DIR  the adapter folder as the server sees it (default: this machine's path)
  --register-key KEY   bearer token (or CODEFUDGE_BACKEND_KEY)`,
};

/**
 * undefined without --register; else checks the server answers now, and returns the step that
 * registers the adapter folder once trained.
 */
export async function registerTarget(
  values: FlagValues<typeof registerFlags.options>,
  repo: string,
  out: string | undefined,
): Promise<((outDir: string) => Promise<string>) | undefined> {
  const url = values.register;
  if (!url) {
    const other = givenFrom(values, registerFlags.options).find((n) => n !== 'register');
    if (other) throw new UserError(`--${other} needs --register URL`);
    return undefined;
  }
  const apiKey = values['register-key'] ?? (process.env.CODEFUDGE_BACKEND_KEY || undefined);
  const name = values['register-name'] ?? adapterNameFor(out ?? join(resolve(repo), '.codefudge', 'adapter'));
  try {
    await checkRegisterTarget({ url, apiKey });
  } catch (e) {
    if (e instanceof BackendError) throw new UserError(`--register: ${e.message}`);
    throw e;
  }
  return async (outDir) => {
    try {
      return await registerAdapter({ url, apiKey, name, path: values['register-path'] ?? outDir });
    } catch (e) {
      if (e instanceof BackendError) throw new UserError(`the adapter is in ${outDir}, but registering it failed: ${e.message}`);
      throw e;
    }
  };
}

// The LSP server's remote backend (the `backend` setting): the RemoteCompleter for the current
// setting, and the server's health as the editor should hear of it: one message when it goes
// down (not one per keystroke), a log line when it answers again.
import { messageOf } from '../../common/index.js';
import type { BackendSetting } from './backend-setting.js';
import { BackendError, type CompletionBackend } from './completion-backend.js';
import { openRemoteCompleter } from './open-remote.js';
import type { RemoteCompleter } from './remote-completer.js';

export interface RemoteHostOptions {
  log: (message: string) => void;
  /** A one-line message for the user (window/showMessage). */
  onFailure: (message: string) => void;
}

export type RemoteState = 'none' | 'loading' | 'ready' | 'down' | 'failed';

export class RemoteHost {
  private key?: string;
  private setting?: BackendSetting;
  private loading?: Promise<RemoteCompleter | undefined>;
  private state: RemoteState = 'none';
  private error?: string;

  constructor(private readonly opts: RemoteHostOptions) {}

  /** Uses `setting` (undefined: no remote backend); `tokenizer`: the model setting or --model, when the setting names none. */
  use(setting: BackendSetting | undefined, tokenizer: string | undefined): void {
    const key = JSON.stringify([setting ?? null, tokenizer ?? null]);
    if (key === this.key) return;
    this.key = key;
    this.setting = setting;
    this.error = undefined;
    if (!setting) {
      this.loading = undefined;
      this.state = 'none';
      return;
    }
    this.state = 'loading';
    this.opts.log(`backend ${setting.url}, model ${setting.adapter ?? setting.model}`);
    this.loading = openRemoteCompleter(setting, tokenizer, (b) => this.watched(b)).then(
      (rc) => {
        if (this.key === key) this.state = 'ready';
        return rc;
      },
      (e) => {
        if (this.key === key) {
          this.state = 'failed';
          this.error = messageOf(e);
          this.opts.onFailure(`codefudge: cannot use the completion backend ${setting.url}: ${this.error}`);
        }
        return undefined;
      },
    );
  }

  /** The remote completer once ready; undefined when none is set or it cannot be used. */
  async completer(): Promise<RemoteCompleter | undefined> {
    return this.loading;
  }

  /** The backend with its failures turned into the server's health. */
  private watched(inner: CompletionBackend): CompletionBackend {
    return {
      complete: async (req) => {
        try {
          const out = await inner.complete(req);
          if (this.state === 'down') this.opts.log(`backend ${this.setting?.url} answers again`);
          this.state = 'ready';
          this.error = undefined;
          return out;
        } catch (e) {
          if (e instanceof BackendError) {
            const first = this.state !== 'down';
            this.state = 'down';
            this.error = e.message;
            if (first) this.opts.onFailure(`codefudge: ${e.message} (completions are empty until it answers)`);
            else this.opts.log(e.message);
          }
          throw e;
        }
      },
    };
  }

  status(): { url: string; model: string; state: RemoteState; error: string | null } | null {
    if (!this.setting) return null;
    return { url: this.setting.url, model: this.setting.adapter ?? this.setting.model, state: this.state, error: this.error ?? null };
  }
}

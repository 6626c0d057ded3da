// A stable `RequestClient` for the commands and the catalog view that sends
// to whichever language client is current: the client is replaced when the
// settings change, and requests made while it (re)starts wait for it.

import { CancellationToken, Disposable, ExecuteCommandParams, ExecuteCommandRequest, ProgressToken, WorkDoneProgress } from 'vscode-languageserver-protocol';
import { RequestClient, WorkDoneProgressValue } from './protocol';

export interface StartableClient extends RequestClient {
  start(): Promise<void>;
  dispose(timeout?: number): Promise<void>;
}

export class ClientHolder implements RequestClient {
  private current: StartableClient | undefined;
  private ready: Promise<void> = Promise.resolve();
  private failure: string | undefined = 'The Disco language server has not been started.';
  private queue: Promise<void> = Promise.resolve();

  /**
   * @param startTimeoutMs how long a start may take. A server that exits at
   * once makes vscode-languageclient retry instead of rejecting `start()`, so
   * without a limit the commands would wait for ever with no message.
   */
  constructor(private readonly startTimeoutMs = 30_000) {}

  /** The running client, if any. */
  get client(): StartableClient | undefined {
    return this.current;
  }

  /** Why there is no running client, if there is none. */
  get failureMessage(): string | undefined {
    return this.failure;
  }

  /**
   * Stops the current client (if any) and starts the one `make` builds.
   * Calls are serialized; the promise resolves once the new client runs or
   * has failed to start (it never rejects: the failure is kept for requests).
   */
  replace(make: () => StartableClient, describe: string): Promise<void> {
    const step = this.queue.then(async () => {
      const old = this.current;
      this.current = undefined;
      this.failure = 'The Disco language server is restarting.';
      if (old) {
        await old.dispose(2000).catch(() => undefined);
      }
      let next: StartableClient;
      try {
        next = make();
      } catch (error) {
        this.failure = startFailure(describe, error);
        return;
      }
      try {
        await withTimeout(next.start(), this.startTimeoutMs);
      } catch (error) {
        this.failure = startFailure(describe, error);
        await next.dispose(2000).catch(() => undefined);
        return;
      }
      this.current = next;
      this.failure = undefined;
    });
    this.queue = step;
    this.ready = step;
    return step;
  }

  /** Stops the current client for good. */
  async stop(): Promise<void> {
    await this.queue;
    const old = this.current;
    this.current = undefined;
    this.failure = 'The Disco language server has stopped.';
    if (old) await old.dispose(2000).catch(() => undefined);
  }

  async sendRequest(
    type: typeof ExecuteCommandRequest.type,
    params: ExecuteCommandParams,
    token?: CancellationToken,
  ): Promise<unknown> {
    await this.ready;
    const client = this.current;
    if (!client) {
      throw new Error(this.failure ?? 'The Disco language server is not running.');
    }
    return client.sendRequest(type, params, token);
  }

  onProgress(
    type: typeof WorkDoneProgress.type,
    token: ProgressToken,
    handler: (value: WorkDoneProgressValue) => void,
  ): Disposable {
    const client = this.current;
    if (client?.onProgress) return client.onProgress(type, token, handler);
    return { dispose: () => undefined };
  }
}

function startFailure(describe: string, error: unknown): string {
  return `The Disco language server (${describe}) failed to start: ${error instanceof Error ? error.message : String(error)}. Check the "disco.path" setting and the "Disco" output.`;
}

/** `promise`, or a rejection once `ms` have passed. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not start within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

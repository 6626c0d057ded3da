// A recording stand-in for the language client: it keeps every
// workspace/executeCommand request and answers from per-command handlers.

import {
  CancellationToken,
  Disposable,
  ExecuteCommandParams,
  ExecuteCommandRequest,
  ProgressToken,
  ResponseError,
  WorkDoneProgress,
} from 'vscode-languageserver-protocol';
import { RequestClient, WorkDoneProgressValue } from '../src/protocol';

export interface SentRequest {
  method: string;
  command: string;
  arguments: unknown[] | undefined;
  workDoneToken: ProgressToken | undefined;
  token: CancellationToken | undefined;
}

type Handler = (args: unknown[], params: ExecuteCommandParams) => unknown;

export class FakeClient implements RequestClient {
  readonly requests: SentRequest[] = [];
  readonly progress = new Map<ProgressToken, (value: WorkDoneProgressValue) => void>();
  private readonly handlers = new Map<string, Handler>();

  /** Answers `command` with `handler`'s result (a thrown error becomes a failed request). */
  on(command: string, handler: Handler): this {
    this.handlers.set(command, handler);
    return this;
  }

  /** The commands sent so far, in order. */
  get commands(): string[] {
    return this.requests.map((r) => r.command);
  }

  async sendRequest(
    type: typeof ExecuteCommandRequest.type,
    params: ExecuteCommandParams,
    token?: CancellationToken,
  ): Promise<unknown> {
    this.requests.push({
      method: type.method,
      command: params.command,
      arguments: params.arguments,
      workDoneToken: params.workDoneToken,
      token,
    });
    const handler = this.handlers.get(params.command);
    if (!handler) throw new ResponseError(-32601, `unknown command ${params.command}`);
    return handler(params.arguments ?? [], params);
  }

  onProgress(
    type: typeof WorkDoneProgress.type,
    token: ProgressToken,
    handler: (value: WorkDoneProgressValue) => void,
  ): Disposable {
    void type;
    this.progress.set(token, handler);
    return { dispose: () => this.progress.delete(token) };
  }
}

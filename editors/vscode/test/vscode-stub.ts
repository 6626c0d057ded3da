// A stand-in for the `vscode` module, for unit tests under plain Node. It
// implements only what the extension's modules use, records what they ask
// of the editor, and lets a test script the user's answers. test/setup.ts
// makes `require('vscode')` load this file.

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The VS Code version the stub claims (vscode-languageclient checks it). */
export const version = '1.85.0';

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}

  static parse(value: string): Uri {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
    if (!m) throw new Error(`stub Uri.parse: not a URI: ${value}`);
    return new Uri(m[1], m[2] ?? '', m[3] || '/', m[4] ?? '', m[5] ?? '');
  }

  static file(fsPath: string): Uri {
    return new Uri('file', '', fsPath.startsWith('/') ? fsPath : `/${fsPath}`, '', '');
  }

  static from(c: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
    return new Uri(c.scheme, c.authority ?? '', c.path ?? '/', c.query ?? '', c.fragment ?? '');
  }

  get fsPath(): string {
    return this.path;
  }

  with(c: { scheme?: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
    return new Uri(
      c.scheme ?? this.scheme,
      c.authority ?? this.authority,
      c.path ?? this.path,
      c.query ?? this.query,
      c.fragment ?? this.fragment,
    );
  }

  toString(): string {
    const auth = this.authority || this.scheme === 'file' ? `//${this.authority}` : '';
    return `${this.scheme}:${auth}${this.path}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: number | Position, b: number | Position, c?: number, d?: number) {
    if (typeof a === 'number' && typeof b === 'number') {
      this.start = new Position(a, b);
      this.end = new Position(c ?? a, d ?? b);
    } else {
      this.start = a as Position;
      this.end = b as Position;
    }
  }
}

export class Selection extends Range {
  readonly anchor: Position;
  readonly active: Position;
  constructor(a: number | Position, b: number | Position, c?: number, d?: number) {
    super(a, b, c, d);
    this.anchor = this.start;
    this.active = this.end;
  }
}

export class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  readonly event = (listener: (e: T) => void) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class TreeItem {
  description?: string;
  tooltip?: string;
  contextValue?: string;
  id?: string;
  iconPath?: ThemeIcon;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    readonly label: string,
    readonly collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
  Two = 2,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export enum TextEditorRevealType {
  Default = 0,
  InCenter = 1,
  InCenterIfOutsideViewport = 2,
  AtTop = 3,
}

// ---------------------------------------------------------------------------
// Fake documents and editors

export class FakeDocument {
  constructor(
    readonly uri: Uri,
    public languageId: string,
    public text: string,
  ) {}
  lineAt(line: number): { text: string } {
    return { text: this.text.split('\n')[line] ?? '' };
  }
  getText(): string {
    return this.text;
  }
}

export class FakeEditor {
  selection: Selection;
  revealed: { range: Range; type: TextEditorRevealType | undefined }[] = [];
  constructor(
    readonly document: FakeDocument,
    cursor: Position = new Position(0, 0),
    readonly viewColumn: ViewColumn = ViewColumn.One,
  ) {
    this.selection = new Selection(cursor, cursor);
  }
  revealRange(range: Range, type?: TextEditorRevealType): void {
    this.revealed.push({ range, type });
  }
}

/** A file editor with the cursor at (line, character). */
export function fileEditor(fsPath: string, text: string, line = 0, character = 0): FakeEditor {
  return new FakeEditor(new FakeDocument(Uri.file(fsPath), 'plaintext', text), new Position(line, character));
}

// ---------------------------------------------------------------------------
// What the code under test asked of the editor, and the scripted answers

export interface Message {
  level: 'info' | 'warning' | 'error';
  text: string;
  items: string[];
}

export interface StubState {
  activeTextEditor: FakeEditor | undefined;
  workspaceFolders: { uri: Uri; name: string; index: number }[] | undefined;
  configuration: Record<string, unknown>;
  messages: Message[];
  /** Answer to a message with buttons: the button to press (undefined: dismissed). */
  messageChoice: (m: Message) => string | undefined;
  quickPicks: { items: any[]; options: any }[];
  /** Answer to a quick pick: the item to pick (undefined: cancelled). */
  quickPickChoice: (items: any[]) => any;
  progress: { options: any; reports: { message?: string; increment?: number }[] }[];
  /** Cancel the progress token of withProgress right away. */
  cancelProgress: boolean;
  shown: { document: FakeDocument | undefined; uri: Uri; options: any; editor: FakeEditor | undefined }[];
  openedDocuments: FakeDocument[];
  languageChanges: { uri: Uri; languageId: string }[];
  providers: Map<string, { provideTextDocumentContent(uri: Uri): string }>;
  commands: Map<string, (...args: any[]) => any>;
  output: string[];
  outputShown: number;
  configurationListeners: ((e: { affectsConfiguration(section: string): boolean }) => void)[];
}

function freshState(): StubState {
  return {
    activeTextEditor: undefined,
    workspaceFolders: undefined,
    configuration: {},
    messages: [],
    messageChoice: () => undefined,
    quickPicks: [],
    quickPickChoice: () => undefined,
    progress: [],
    cancelProgress: false,
    shown: [],
    openedDocuments: [],
    languageChanges: [],
    providers: new Map(),
    commands: new Map(),
    output: [],
    outputShown: 0,
    configurationListeners: [],
  };
}

export const stub: { state: StubState; reset(): void } = {
  state: freshState(),
  reset() {
    this.state = freshState();
  },
};

function message(level: Message['level']) {
  return async (text: string, ...rest: unknown[]): Promise<string | undefined> => {
    const items = rest.filter((r): r is string => typeof r === 'string');
    const m = { level, text, items };
    stub.state.messages.push(m);
    return items.length ? stub.state.messageChoice(m) : undefined;
  };
}

function languageOf(uri: Uri): string {
  return uri.path.endsWith('.json') ? 'json' : 'plaintext';
}

export const window = {
  get activeTextEditor(): FakeEditor | undefined {
    return stub.state.activeTextEditor;
  },
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  async showQuickPick(items: any[] | Promise<any[]>, options?: any): Promise<any> {
    const list = await items;
    stub.state.quickPicks.push({ items: list, options });
    return stub.state.quickPickChoice(list);
  },
  async withProgress<R>(
    options: any,
    task: (progress: { report(v: any): void }, token: any) => Promise<R>,
  ): Promise<R> {
    const record = { options, reports: [] as any[] };
    stub.state.progress.push(record);
    const token = {
      isCancellationRequested: stub.state.cancelProgress,
      onCancellationRequested: () => ({ dispose() {} }),
    };
    return task({ report: (v) => record.reports.push(v) }, token);
  },
  async showTextDocument(target: FakeDocument | Uri, options?: any): Promise<FakeEditor> {
    const document = target instanceof FakeDocument ? target : undefined;
    const uri = target instanceof FakeDocument ? target.uri : target;
    const editor = new FakeEditor(document ?? new FakeDocument(uri, languageOf(uri), ''), new Position(0, 0), ViewColumn.Two);
    stub.state.shown.push({ document, uri, options, editor });
    return editor;
  },
  createOutputChannel(name: string) {
    return {
      name,
      append: (text: string) => stub.state.output.push(text),
      appendLine: (line: string) => stub.state.output.push(line),
      replace: (text: string) => stub.state.output.push(text),
      clear() {},
      show: () => stub.state.outputShown++,
      hide() {},
      dispose() {},
    };
  },
  createTreeView(_id: string, _options: unknown) {
    return { message: undefined as string | undefined, dispose() {} };
  },
};

export const workspace = {
  get workspaceFolders() {
    return stub.state.workspaceFolders;
  },
  async openTextDocument(uri: Uri): Promise<FakeDocument> {
    const provider = stub.state.providers.get(uri.scheme);
    const text = provider ? provider.provideTextDocumentContent(uri) : '';
    const doc = new FakeDocument(uri, languageOf(uri), text);
    stub.state.openedDocuments.push(doc);
    return doc;
  },
  registerTextDocumentContentProvider(scheme: string, provider: { provideTextDocumentContent(uri: Uri): string }) {
    stub.state.providers.set(scheme, provider);
    return { dispose: () => stub.state.providers.delete(scheme) };
  },
  getConfiguration(section?: string) {
    const key = (k: string) => (section ? `${section}.${k}` : k);
    return {
      get: (k: string, fallback?: unknown) => stub.state.configuration[key(k)] ?? fallback,
      has: (k: string) => key(k) in stub.state.configuration,
      inspect: () => undefined,
      update: async () => undefined,
    };
  },
  onDidChangeConfiguration(listener: (e: { affectsConfiguration(section: string): boolean }) => void) {
    stub.state.configurationListeners.push(listener);
    return { dispose: () => undefined };
  },
  onDidSaveTextDocument: () => ({ dispose() {} }),
  onDidCloseTextDocument: () => ({ dispose() {} }),
};

export const languages = {
  async setTextDocumentLanguage(doc: FakeDocument, languageId: string): Promise<FakeDocument> {
    stub.state.languageChanges.push({ uri: doc.uri, languageId });
    doc.languageId = languageId;
    return doc;
  },
};

export const commands = {
  registerCommand(id: string, handler: (...args: any[]) => any) {
    if (stub.state.commands.has(id)) throw new Error(`command '${id}' already exists`);
    stub.state.commands.set(id, handler);
    return { dispose: () => stub.state.commands.delete(id) };
  },
  async executeCommand(id: string, ...args: any[]): Promise<any> {
    const handler = stub.state.commands.get(id);
    if (!handler) throw new Error(`command '${id}' not found`);
    return handler(...args);
  },
};

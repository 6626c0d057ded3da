// The "Disco Catalog" view in the Explorer: the catalog's resources grouped
// by kind, from `disco.catalog`; clicking a resource opens disco.toml at it.

import * as path from 'path';
import * as vscode from 'vscode';
import {
  asCatalog,
  Catalog,
  CatalogResource,
  errorMessage,
  execute,
  RequestClient,
  RESOURCE_KINDS,
  ResourceKind,
  ServerCommand,
} from './protocol';
import { ExtensionCommand } from './protocol';

export interface KindGroup {
  type: 'group';
  kind: ResourceKind | string;
  resources: CatalogResource[];
}

export interface ResourceEntry {
  type: 'resource';
  origin: string;
  resource: CatalogResource;
}

export type CatalogNode = KindGroup | ResourceEntry;

const KIND_TITLES: Record<ResourceKind, string> = {
  volume: 'Volumes',
  table: 'Tables',
  tokenizer: 'Tokenizers',
  model: 'Models',
  validator: 'Validators',
  server: 'Servers',
  pipeline: 'Pipelines',
};

const KIND_ICONS: Record<ResourceKind, string> = {
  volume: 'database',
  table: 'table',
  tokenizer: 'symbol-text',
  model: 'hubot',
  validator: 'verified',
  server: 'server-process',
  pipeline: 'run-all',
};

function known(kind: string): kind is ResourceKind {
  return (RESOURCE_KINDS as readonly string[]).includes(kind);
}

/** Groups resources by kind: known kinds in catalog order, then any others alphabetically; names sorted. */
export function groupByKind(resources: CatalogResource[]): KindGroup[] {
  const byKind = new Map<string, CatalogResource[]>();
  for (const r of resources) {
    const list = byKind.get(r.kind) ?? [];
    list.push(r);
    byKind.set(r.kind, list);
  }
  const kinds = [
    ...RESOURCE_KINDS.filter((k) => byKind.has(k)),
    ...[...byKind.keys()].filter((k) => !known(k)).sort(),
  ];
  return kinds.map((kind) => ({
    type: 'group',
    kind,
    resources: [...(byKind.get(kind) ?? [])].sort((a, b) => a.name.localeCompare(b.name)),
  }));
}

/**
 * The file a catalog's origin names: an absolute path, a `file:` URI, or a
 * path relative to the workspace folder. Undefined for origins that are no
 * file (such as "the embedded default catalog").
 */
export function originUri(origin: string, workspaceFolder: vscode.Uri | undefined): vscode.Uri | undefined {
  if (/^file:/i.test(origin)) return vscode.Uri.parse(origin);
  if (path.isAbsolute(origin)) return vscode.Uri.file(origin);
  if (/\s/.test(origin) && !/\.toml$/i.test(origin)) return undefined;
  if (!workspaceFolder) return undefined;
  return vscode.Uri.file(path.join(workspaceFolder.fsPath, origin));
}

export class CatalogProvider implements vscode.TreeDataProvider<CatalogNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<CatalogNode | undefined>();
  private readonly messageChanged = new vscode.EventEmitter<string | undefined>();
  private catalog: Catalog | undefined;
  private groups: KindGroup[] = [];
  private currentMessage: string | undefined;
  readonly onDidChangeTreeData = this.changed.event;
  /** A line for the view's message area: why it is empty, or undefined. */
  readonly onDidChangeMessage = this.messageChanged.event;

  constructor(private readonly client: RequestClient) {}

  get message(): string | undefined {
    return this.currentMessage;
  }

  get origin(): string | undefined {
    return this.catalog?.origin;
  }

  /** Asks `disco.catalog` again and redraws the view. */
  async refresh(): Promise<void> {
    try {
      this.catalog = asCatalog(await execute(this.client, ServerCommand.catalog, []));
      this.groups = groupByKind(this.catalog.resources);
      this.setMessage(this.groups.length === 0 ? `No resources in ${this.catalog.origin}.` : undefined);
    } catch (error) {
      this.catalog = undefined;
      this.groups = [];
      this.setMessage(`Catalog unavailable: ${errorMessage(error)}`);
    }
    this.changed.fire(undefined);
  }

  getChildren(element?: CatalogNode): CatalogNode[] {
    if (!element) return this.groups;
    if (element.type === 'group') {
      const origin = this.catalog?.path ?? this.catalog?.origin ?? '';
      return element.resources.map((resource) => ({ type: 'resource', origin, resource }));
    }
    return [];
  }

  getTreeItem(element: CatalogNode): vscode.TreeItem {
    if (element.type === 'group') {
      const title = known(element.kind) ? KIND_TITLES[element.kind] : element.kind;
      const item = new vscode.TreeItem(title, vscode.TreeItemCollapsibleState.Expanded);
      item.description = String(element.resources.length);
      item.contextValue = `disco.group.${element.kind}`;
      item.id = `group:${element.kind}`;
      return item;
    }
    const { resource, origin } = element;
    const item = new vscode.TreeItem(resource.name, vscode.TreeItemCollapsibleState.None);
    item.description = resource.detail;
    item.tooltip = `${resource.kind} ${resource.name}${resource.detail ? `\n${resource.detail}` : ''}\n${origin}:${resource.line}`;
    item.contextValue = `disco.resource.${resource.kind}`;
    item.id = `resource:${resource.kind}:${resource.name}`;
    if (known(resource.kind)) item.iconPath = new vscode.ThemeIcon(KIND_ICONS[resource.kind]);
    item.command = {
      command: ExtensionCommand.openResource,
      title: 'Open in catalog',
      arguments: [origin, resource.line],
    };
    return item;
  }

  private setMessage(message: string | undefined): void {
    this.currentMessage = message;
    this.messageChanged.fire(message);
  }

  dispose(): void {
    this.changed.dispose();
    this.messageChanged.dispose();
  }
}

/** `disco.openResource`: opens the catalog file at a resource's (1-based) line. */
export async function openResource(origin: unknown, line: unknown): Promise<void> {
  if (typeof origin !== 'string') return;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = originUri(origin, folder);
  if (!uri) {
    void vscode.window.showInformationMessage(`Disco: this resource comes from ${origin}, which is not a file.`);
    return;
  }
  const row = Math.max(0, (typeof line === 'number' ? line : 1) - 1);
  const at = new vscode.Range(row, 0, row, 0);
  try {
    await vscode.window.showTextDocument(uri, { selection: at, preview: true });
  } catch (error) {
    void vscode.window.showErrorMessage(`Disco: cannot open ${uri.fsPath}: ${errorMessage(error)}`);
  }
}

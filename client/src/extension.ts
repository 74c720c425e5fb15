// The VS Code shell: starts the bundled language server (dist/server.js, over IPC), wires the
// `firewallLens.*` settings to it, shows a status bar item while the server works, and offers
// "Firewall Lens: Check a packet…", which asks the server for one packet's verdict (`fwlens/query`)
// and shows it with its trace. Nothing here runs anything from the workspace: the only process it
// starts is the server shipped inside the extension, so it is safe in untrusted workspaces.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  Middleware,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';

export const LANGUAGES = ['iptables', 'nftables'] as const;
const SELECTOR = LANGUAGES.flatMap((language) => [
  { scheme: 'file', language },
  { scheme: 'untitled', language },
]);

// ---------------------------------------------------------------------------------------------
// The `fwlens/query` request, as the server answers it (server/src/features/query.ts).

export interface PacketParams {
  src?: string;
  dst?: string;
  proto?: string;
  sport?: number;
  dport?: number;
  icmpType?: string;
  in?: string;
  out?: string;
  state?: string;
}

export interface QueryParams {
  uri: string;
  packet: PacketParams;
  chain?: string;
}

interface LspRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface QueryAnswer {
  verdict: string;
  range: LspRange;
  rule: string | null;
  decidedBy: string;
  chain: string;
  trace: { line: number; rule: string; how: string; range: LspRange }[];
  uncertain: boolean;
}

export type QueryResult = QueryAnswer | { error: string };

/** `fwlens/status`: sent when the server starts and finishes analysing a document. */
const STATUS_NOTIFICATION = 'fwlens/status';
interface StatusParams {
  uri: string;
  version: number;
  state: 'analyzing' | 'idle';
  ms?: number;
  error?: string;
}

/** What `firewallLens.checkPacket` returns (for tests and other extensions), or undefined when cancelled. */
export interface CheckResult {
  params: QueryParams;
  result: QueryResult;
}

// ---------------------------------------------------------------------------------------------

let client: LanguageClient | undefined;
let status: WorkStatus | undefined;
let output: vscode.LogOutputChannel | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<{ checkPacket: typeof checkPacket }> {
  output = vscode.window.createOutputChannel('Firewall Lens', { log: true });
  status = new WorkStatus();
  context.subscriptions.push(output, status);

  context.subscriptions.push(
    // From a menu the argument is the document's URI; from code, the packet (see checkPacket).
    vscode.commands.registerCommand('firewallLens.checkPacket', (args?: (Partial<QueryParams> & PacketParams) | vscode.Uri) =>
      checkPacket(args instanceof vscode.Uri ? { uri: args.toString() } : args)),
    vscode.commands.registerCommand('firewallLens.restartServer', async () => {
      if (!client) return startClient(context);
      await client.restart();
    }),
    vscode.commands.registerCommand('firewallLens.showOutput', () => output?.show(true)),
  );

  await startClient(context);
  return { checkPacket };
}

export async function deactivate(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.stop().catch(() => undefined);
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: {
      module: serverModule,
      transport: TransportKind.ipc,
      options: { execArgv: ['--nolazy', '--inspect=6011', '--enable-source-maps'] },
    },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: SELECTOR,
    synchronize: { configurationSection: 'firewallLens' },
    outputChannel: output,
    middleware: busyMiddleware(),
  };
  // The id `firewallLens` makes the client honour the `firewallLens.trace.server` setting.
  client = new LanguageClient('firewallLens', 'Firewall Lens', serverOptions, clientOptions);
  client.onDidChangeState((e) => status?.setState(e.newState));
  // The server says when it starts and finishes analysing a document (server/src/features/protocol.ts).
  context.subscriptions.push(
    client.onNotification(STATUS_NOTIFICATION, (p: StatusParams) => {
      if (!p || typeof p.uri !== 'string') return;
      if (p.state === 'analyzing') status?.begin(`doc:${p.uri}`);
      else status?.end(`doc:${p.uri}`, p);
    }),
  );
  status?.setState(State.Starting);
  try {
    await client.start();
  } catch (err) {
    status?.setState(State.Stopped);
    output?.appendLine(`[client] the language server did not start: ${errorText(err)}`);
    void vscode.window.showErrorMessage(`Firewall Lens: the language server did not start (${errorText(err)}).`, 'Show Output').then((pick) => {
      if (pick) output?.show(true);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Status bar: "working" from a change (or open) of a document until its diagnostics arrive, and while
// a request of ours is pending. Each piece of work has a deadline so that a lost answer can never
// leave the spinner on.

const WORK_TIMEOUT_MS = 10_000;

class WorkStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('firewallLens.status', vscode.StatusBarAlignment.Right, 100);
  private readonly work = new Map<string, ReturnType<typeof setTimeout>>();
  private state: State = State.Stopped;
  private readonly subs: vscode.Disposable[] = [];
  private seq = 0;
  /** The last `idle` status of each document: how long its analysis took, or why it failed. */
  private readonly last = new Map<string, StatusParams>();

  constructor() {
    this.item.name = 'Firewall Lens';
    this.subs.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.languages.onDidChangeDiagnostics(() => this.render()),
    );
    this.render();
  }

  setState(state: State): void {
    this.state = state;
    this.render();
  }

  /** Marks `key` as in progress (replacing an earlier mark of the same key). */
  begin(key: string): void {
    const old = this.work.get(key);
    if (old) clearTimeout(old);
    this.work.set(key, setTimeout(() => this.end(key), WORK_TIMEOUT_MS));
    this.render();
  }

  end(key: string, info?: StatusParams): void {
    if (info) this.last.set(info.uri, info);
    const t = this.work.get(key);
    if (t) clearTimeout(t);
    this.work.delete(key);
    this.render();
  }

  /** Shows the item as busy while `p` is pending. */
  track<T>(p: Thenable<T>): Thenable<T> {
    const key = `request#${++this.seq}`;
    this.begin(key);
    return p.then(
      (v) => {
        this.end(key);
        return v;
      },
      (e) => {
        this.end(key);
        throw e;
      },
    );
  }

  get busy(): boolean {
    return this.work.size > 0;
  }

  private render(): void {
    const editor = vscode.window.activeTextEditor;
    const ours = !!editor && (LANGUAGES as readonly string[]).includes(editor.document.languageId);
    if (!ours && !this.busy && this.state !== State.Starting) {
      this.item.hide();
      return;
    }
    if (this.state === State.Starting) {
      this.item.text = '$(sync~spin) Firewall Lens';
      this.item.tooltip = 'Firewall Lens: starting the language server…';
      this.item.command = 'firewallLens.showOutput';
    } else if (this.state === State.Stopped) {
      this.item.text = '$(error) Firewall Lens';
      this.item.tooltip = 'Firewall Lens: the language server is not running. Click to restart it.';
      this.item.command = 'firewallLens.restartServer';
    } else if (this.busy) {
      this.item.text = '$(sync~spin) Firewall Lens';
      this.item.tooltip = 'Firewall Lens: checking…';
      this.item.command = 'firewallLens.showOutput';
    } else {
      const uri = editor && ours ? editor.document.uri : undefined;
      const info = uri ? this.last.get(uri.toString()) : undefined;
      if (info?.error) {
        this.item.text = '$(warning) Firewall Lens';
        this.item.tooltip = `Firewall Lens cannot analyse this file: ${info.error}`;
        this.item.command = 'firewallLens.showOutput';
      } else {
        const counts = uri ? countProblems(uri) : undefined;
        const took = info?.ms !== undefined ? ` (analysed in ${info.ms} ms)` : '';
        this.item.text = counts && counts.total ? `$(shield) ${counts.total}` : '$(shield) Firewall Lens';
        this.item.tooltip = counts
          ? `Firewall Lens: ${counts.errors} error(s), ${counts.warnings} warning(s) in this file${took}. Click to check a packet.`
          : 'Firewall Lens: click to check a packet.';
        this.item.command = 'firewallLens.checkPacket';
      }
    }
    this.item.show();
  }

  dispose(): void {
    for (const t of this.work.values()) clearTimeout(t);
    this.work.clear();
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}

function countProblems(uri: vscode.Uri): { total: number; errors: number; warnings: number } {
  const ds = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'fwlens');
  const errors = ds.filter((d) => d.severity === vscode.DiagnosticSeverity.Error).length;
  const warnings = ds.filter((d) => d.severity === vscode.DiagnosticSeverity.Warning).length;
  return { total: errors + warnings, errors, warnings };
}

function busyMiddleware(): Middleware {
  const docKey = (uri: vscode.Uri | string) => `doc:${uri.toString()}`;
  return {
    didOpen: (doc, next) => {
      status?.begin(docKey(doc.uri));
      return next(doc);
    },
    didChange: (e, next) => {
      if (e.contentChanges.length) status?.begin(docKey(e.document.uri));
      return next(e);
    },
    didClose: (doc, next) => {
      status?.end(docKey(doc.uri));
      return next(doc);
    },
    handleDiagnostics: (uri, diagnostics, next) => {
      status?.end(docKey(uri));
      next(uri, diagnostics);
    },
    workspace: {
      // The settings UI has `disabledCodes` and `severityOverrides`; the server reads one `codes` map
      // (server/src/features/settings.ts). Both are sent, so either side can change alone.
      configuration: async (params, token, next) => {
        const result = await next(params, token);
        if (!Array.isArray(result)) return result;
        return result.map((value, i) => {
          const section = params.items[i]?.section;
          return section === 'firewallLens' ? withCodes(value) : value;
        });
      },
    },
    provideDiagnostics: (document, previousResultId, token, next) => {
      const uri = document instanceof vscode.Uri ? document : document.uri;
      const p = Promise.resolve(next(document, previousResultId, token));
      void p.then(
        () => status?.end(docKey(uri)),
        () => status?.end(docKey(uri)),
      );
      return p;
    },
  };
}

/** Adds `codes: { <code>: { enabled?, severity? } }` built from `disabledCodes` and `severityOverrides`. */
export function withCodes(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  const codes: Record<string, { enabled?: boolean; severity?: string }> = {};
  if (v.codes && typeof v.codes === 'object') {
    for (const [code, entry] of Object.entries(v.codes as Record<string, unknown>)) {
      if (entry && typeof entry === 'object') codes[code] = { ...(entry as object) };
    }
  }
  if (Array.isArray(v.disabledCodes)) {
    for (const code of v.disabledCodes) if (typeof code === 'string') codes[code] = { ...codes[code], enabled: false };
  }
  if (v.severityOverrides && typeof v.severityOverrides === 'object') {
    for (const [code, sev] of Object.entries(v.severityOverrides as Record<string, unknown>)) {
      if (typeof sev !== 'string') continue;
      codes[code] = { ...codes[code], severity: sev === 'information' ? 'info' : sev };
    }
  }
  return { ...v, codes };
}

// ---------------------------------------------------------------------------------------------
// Firewall Lens: Check a packet…

const PROTOCOLS: { label: string; description: string; ports: boolean; icmp?: boolean }[] = [
  { label: 'tcp', description: 'TCP (asks for the destination port)', ports: true },
  { label: 'udp', description: 'UDP (asks for the destination port)', ports: true },
  { label: 'icmp', description: 'ICMP (IPv4; asks for the type)', ports: false, icmp: true },
  { label: 'icmpv6', description: 'ICMPv6 (asks for the type)', ports: false, icmp: true },
  { label: 'sctp', description: 'SCTP (asks for the destination port)', ports: true },
  { label: 'any', description: 'any other protocol (no ports)', ports: false },
];

/** The last answers, offered as the defaults of the next check. */
const last: { src: string; dst: string; proto: string; dport: string; chain: string } = {
  src: '203.0.113.10',
  dst: '192.0.2.1',
  proto: 'tcp',
  dport: '22',
  chain: '',
};

function firewallDocument(uriText?: string): vscode.TextDocument | undefined {
  if (uriText) return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uriText);
  const active = vscode.window.activeTextEditor?.document;
  if (active && (LANGUAGES as readonly string[]).includes(active.languageId)) return active;
  const visible = vscode.window.visibleTextEditors.map((e) => e.document).find((d) => (LANGUAGES as readonly string[]).includes(d.languageId));
  return visible;
}

function validateAddress(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'an address is needed, e.g. 203.0.113.10 or 2001:db8::1';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(v) && v.split('.').every((o) => Number(o) <= 255)) return undefined;
  if (/^[0-9a-f:.]+$/i.test(v) && v.includes(':')) return undefined;
  return `'${v}' is not an IPv4 or IPv6 address`;
}

function validatePort(value: string): string | undefined {
  const v = value.trim();
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) return 'a port number from 0 to 65535';
  return undefined;
}

async function askPacket(doc: vscode.TextDocument): Promise<QueryParams | undefined> {
  const opts = { ignoreFocusOut: true };
  const src = await vscode.window.showInputBox({ ...opts, title: 'Check a packet (1/4): source address', prompt: 'Where the packet comes from', value: last.src, validateInput: validateAddress });
  if (src === undefined) return undefined;
  const dst = await vscode.window.showInputBox({ ...opts, title: 'Check a packet (2/4): destination address', prompt: 'Where the packet goes', value: last.dst, validateInput: validateAddress });
  if (dst === undefined) return undefined;
  const protoItems = PROTOCOLS.map((p) => ({ ...p, picked: p.label === last.proto }));
  protoItems.sort((a, b) => Number(b.picked) - Number(a.picked));
  const proto = await vscode.window.showQuickPick(protoItems, { ...opts, title: 'Check a packet (3/4): protocol' });
  if (!proto) return undefined;
  const packet: PacketParams = { src: src.trim(), dst: dst.trim(), proto: proto.label === 'any' ? undefined : proto.label };
  if (proto.ports) {
    const dport = await vscode.window.showInputBox({ ...opts, title: 'Check a packet (4/4): destination port', prompt: `${proto.label} destination port`, value: last.dport, validateInput: validatePort });
    if (dport === undefined) return undefined;
    packet.dport = Number(dport.trim());
    last.dport = dport.trim();
  } else if (proto.icmp) {
    const type = await vscode.window.showInputBox({ ...opts, title: 'Check a packet (4/4): ICMP type (optional)', prompt: 'A type name or number (echo-request, 8), or empty for any', value: '' });
    if (type === undefined) return undefined;
    if (type.trim()) packet.icmpType = type.trim();
  }
  const chain = await askChain(doc);
  if (chain === undefined) return undefined;
  last.src = packet.src!;
  last.dst = packet.dst!;
  last.proto = proto.label;
  last.chain = chain;
  return { uri: doc.uri.toString(), packet, ...(chain ? { chain } : {}) };
}

/** The chain to start in: '' for the default (INPUT / the input hook), undefined when cancelled. */
async function askChain(doc: vscode.TextDocument): Promise<string | undefined> {
  const fallback = doc.languageId === 'nftables' ? 'the input hook' : 'the filter table’s INPUT chain';
  // The outline is tables → chains → rules (server/src/features/symbols.ts).
  const chains: { name: string; where: string }[] = [];
  try {
    const symbols = await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[]>('vscode.executeDocumentSymbolProvider', doc.uri);
    for (const table of symbols ?? []) {
      if (!('children' in table)) continue;
      for (const c of table.children ?? []) {
        if (!chains.some((x) => x.name === c.name)) chains.push({ name: c.name, where: [table.name, c.detail].filter(Boolean).join(' · ') });
      }
    }
  } catch {
    /* no outline: the default and "Other…" remain */
  }
  type Item = vscode.QuickPickItem & { chain: string | null };
  const items: Item[] = [
    { label: 'Default', description: fallback, chain: '' },
    ...chains.map((c) => ({ label: c.name, description: c.where, chain: c.name })),
    { label: 'Other…', description: 'type a chain or hook name', chain: null },
  ];
  if (last.chain) items.sort((a, b) => Number(b.chain === last.chain) - Number(a.chain === last.chain));
  const pick = await vscode.window.showQuickPick(items, { ignoreFocusOut: true, title: 'Check a packet: start in which chain?' });
  if (!pick) return undefined;
  if (pick.chain !== null) return pick.chain;
  const typed = await vscode.window.showInputBox({ ignoreFocusOut: true, title: 'Check a packet: chain or hook name', value: last.chain });
  return typed === undefined ? undefined : typed.trim();
}

/**
 * Asks for a packet (or takes it from `args`, which skips the questions: `{ uri?, chain?, packet? }` or
 * the packet's keys at the top level), asks the server for its verdict, and shows the answer.
 */
export async function checkPacket(args?: Partial<QueryParams> & PacketParams): Promise<CheckResult | undefined> {
  const doc = firewallDocument(args?.uri);
  if (!doc) {
    void vscode.window.showWarningMessage('Firewall Lens: open an iptables or nftables file first, then check a packet against it.');
    return undefined;
  }
  if (!client || !client.isRunning()) {
    void vscode.window.showErrorMessage('Firewall Lens: the language server is not running.', 'Restart').then((pick) => {
      if (pick) void vscode.commands.executeCommand('firewallLens.restartServer');
    });
    return undefined;
  }
  let params: QueryParams | undefined;
  if (args && (args.packet || args.src || args.dst)) {
    const packet: PacketParams = args.packet ?? {
      src: args.src, dst: args.dst, proto: args.proto, sport: args.sport, dport: args.dport,
      icmpType: args.icmpType, in: args.in, out: args.out, state: args.state,
    };
    params = { uri: doc.uri.toString(), packet, ...(args.chain ? { chain: args.chain } : {}) };
  } else {
    params = await askPacket(doc);
  }
  if (!params) return undefined;

  let result: QueryResult;
  try {
    result = await status!.track(client.sendRequest<QueryResult>('fwlens/query', params));
  } catch (err) {
    result = { error: errorText(err) };
  }
  if (!result || typeof result !== 'object') result = { error: 'the server gave no answer' };
  void showAnswer(doc, params, result, !args);
  return { params, result };
}

function describePacket(p: PacketParams): string {
  const proto = p.proto ?? 'any protocol';
  const port = p.dport !== undefined ? `/${p.dport}` : p.icmpType ? ` type ${p.icmpType}` : '';
  return `${p.src ?? 'any'} → ${p.dst ?? 'any'} ${proto}${port}`;
}

async function showAnswer(doc: vscode.TextDocument, params: QueryParams, result: QueryResult, interactive: boolean): Promise<void> {
  const what = describePacket(params.packet);
  if ('error' in result) {
    output?.appendLine(`[check] ${what}: ${result.error}`);
    void vscode.window.showErrorMessage(`Firewall Lens: cannot check ${what}: ${result.error}`);
    return;
  }
  const verdict = result.verdict.toUpperCase();
  const headline = `${verdict}${result.uncertain ? ' (uncertain)' : ''} — ${what} in ${result.chain}, decided by ${result.decidedBy}`;
  output?.appendLine(`[check] ${headline}`);
  for (const t of result.trace) output?.appendLine(`    line ${t.line} (${t.how}): ${t.rule}`);
  if (result.rule) output?.appendLine(`  → ${result.rule}`);
  if (result.uncertain) output?.appendLine('    (some rule on the way uses a match the analysis cannot see, e.g. -m recent or a set it cannot read: the verdict may differ)');

  const editor = await reveal(doc, result.range);
  if (!interactive) {
    void vscode.window.showInformationMessage(`Firewall Lens: ${headline}`);
    return;
  }
  type Item = vscode.QuickPickItem & { range?: LspRange };
  const items: Item[] = [
    { label: `$(${verdictIcon(result.verdict)}) ${verdict}`, description: `decided by ${result.decidedBy}`, detail: result.rule ?? undefined, range: result.range },
    { label: 'trace', kind: vscode.QuickPickItemKind.Separator },
    ...result.trace.map((t) => ({ label: `line ${t.line}`, description: t.how, detail: t.rule, range: t.range })),
  ];
  if (!result.trace.length) items.push({ label: 'no rule matched on the way', description: result.decidedBy });
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = headline;
  qp.placeholder = 'The verdict and the rules the packet passed through; pick one to go to it';
  qp.matchOnDetail = true;
  qp.items = items;
  qp.onDidChangeActive((active) => {
    const r = active[0]?.range;
    if (r && editor) void reveal(doc, r, true);
  });
  qp.onDidAccept(() => {
    const r = qp.selectedItems[0]?.range;
    qp.hide();
    if (r) void reveal(doc, r);
  });
  qp.onDidHide(() => qp.dispose());
  qp.show();
}

function verdictIcon(verdict: string): string {
  return verdict === 'accept' ? 'pass' : verdict === 'drop' || verdict === 'reject' ? 'circle-slash' : 'question';
}

async function reveal(doc: vscode.TextDocument, r: LspRange, preserveFocus = false): Promise<vscode.TextEditor | undefined> {
  try {
    const editor = await vscode.window.showTextDocument(doc, { preserveFocus, preview: false });
    const range = new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return editor;
  } catch {
    return undefined;
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

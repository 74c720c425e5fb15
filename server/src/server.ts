// fwlens-language-server: the LSP shell (DESIGN.md, "shells"). Wiring only: documents and their
// versions, when to analyse, settings, and which feature answers which request. Everything that
// knows about firewalls lives in features/ and below.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CancellationToken, ClientCapabilities, CodeActionKind, createConnection, DidChangeConfigurationNotification,
  DocumentDiagnosticReport, InitializeResult, LSPErrorCodes, ProposedFeatures, ResponseError, TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyzeDocument, DEFAULT_SETTINGS, detectLanguage, DocumentAnalysis, LanguageId, newReuse, Reuse, Settings } from './features/document';
import { parseSettings, SETTINGS_SECTION } from './features/settings';
import { toDiagnostics } from './features/diagnostics';
import { hover } from './features/hover';
import { codeActions, FIX_ALL_KIND } from './features/code-actions';
import { documentSymbols } from './features/symbols';
import { foldingRanges } from './features/folding';
import { definition, references } from './features/navigation';
import { explainCidr, queryPacket } from './features/query';
import { Debouncer, DEFAULT_SCHEDULE, SchedulerOptions } from './features/scheduler';
import { boundHeapGrowth, IdleCollector } from './features/idle-gc';
import { warmHoverIndexes } from './features/explain-budget';
import {
  EXPLAIN_REQUEST, ExplainParams, ExplainResult, QUERY_REQUEST, QueryParams, QueryResult, STATUS_NOTIFICATION, StatusParams,
} from './features/protocol';

const VERSION = '0.1.0';

if (process.argv.includes('--version')) {
  process.stdout.write(`fwlens-language-server ${VERSION}\n`);
  process.exit(0);
}
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write('usage: fwlens-language-server --stdio | --node-ipc | --socket=PORT | --pipe=NAME\n');
  process.exit(0);
}
// The standalone binary speaks stdio unless told otherwise (editors pass --stdio anyway).
if (!process.argv.some((a) => /^--(stdio|node-ipc|socket|pipe)/.test(a))) process.argv.push('--stdio');

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

type Result = DocumentAnalysis | { error: string };
interface Cached { version: number; generation: number; result: Result; ms: number }

/** The analysis of each open document's latest analysed version: hovers and fixes reuse it. */
const cache = new Map<string, Cached>();
/** Per open document: the parse and compile caches that make re-analysis after an edit cheap. */
const reuse = new Map<string, Reuse>();
/** Bumped when settings change: every cached analysis is then out of date. */
let generation = 0;
let settings: Settings = DEFAULT_SETTINGS;
let settingsReady: Promise<void> = Promise.resolve();

let caps: ClientCapabilities = {};
/** The client pulls diagnostics (textDocument/diagnostic): then they are never pushed too. */
let pullMode = false;
let schedule: SchedulerOptions = DEFAULT_SCHEDULE;
boundHeapGrowth();
const idle = new IdleCollector();
/** Pull requests waiting for the scheduled analysis of their document. */
const waiting = new Map<string, (() => void)[]>();

let scheduler = new Debouncer<string>((uri) => void diagnose(uri), schedule);

connection.onInitialize((params): InitializeResult => {
  caps = params.capabilities;
  pullMode = !!caps.textDocument?.diagnostic;
  const init = (params.initializationOptions ?? {}) as { quietMs?: unknown; leadingMs?: unknown; settings?: unknown };
  // Tests and benchmarks may tune the schedule; editors leave the defaults.
  if (typeof init.quietMs === 'number' || typeof init.leadingMs === 'number') {
    schedule = {
      quietMs: typeof init.quietMs === 'number' ? init.quietMs : DEFAULT_SCHEDULE.quietMs,
      leadingMs: typeof init.leadingMs === 'number' ? init.leadingMs : DEFAULT_SCHEDULE.leadingMs,
    };
    scheduler = new Debouncer<string>((uri) => void diagnose(uri), schedule);
  }
  if (init.settings !== undefined) settings = parseSettings(init.settings);
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
      documentSymbolProvider: { label: 'Firewall Lens' },
      foldingRangeProvider: true,
      definitionProvider: true,
      referencesProvider: true,
      ...(pullMode ? { diagnosticProvider: { identifier: 'fwlens', interFileDependencies: false, workspaceDiagnostics: false } } : {}),
    },
    serverInfo: { name: 'fwlens-language-server', version: VERSION },
  };
});

connection.onInitialized(() => {
  if (caps.workspace?.didChangeConfiguration?.dynamicRegistration) {
    void connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION });
  }
  settingsReady = fetchSettings();
});

async function fetchSettings(): Promise<void> {
  if (!caps.workspace?.configuration) return;
  try {
    const raw: unknown = await connection.workspace.getConfiguration({ section: SETTINGS_SECTION });
    useSettings(parseSettings(raw));
  } catch (e) {
    connection.console.warn(`fwlens: cannot read settings: ${(e as Error).message}`);
  }
}

/** New settings; the cached analyses are out of date only when something actually changed. */
function useSettings(next: Settings): void {
  if (JSON.stringify(next) === JSON.stringify(settings)) return;
  settings = next;
  generation++;
}

connection.onDidChangeConfiguration(async (change) => {
  const before = generation;
  if (caps.workspace?.configuration) await fetchSettings();
  else {
    const raw = (change.settings as Record<string, unknown> | null | undefined)?.[SETTINGS_SECTION];
    useSettings(parseSettings(raw));
  }
  // VS Code may say it twice (the registration and `synchronize.configurationSection`): once is enough.
  if (generation === before) return;
  if (pullMode) {
    if (caps.workspace?.diagnostics?.refreshSupport) void connection.languages.diagnostics.refresh();
  } else {
    for (const doc of documents.all()) scheduler.changed(doc.uri);
  }
});

// --- documents and diagnostics ----------------------------------------------------------------

// Fired for didOpen too (TextDocuments reports an open as a content change).
documents.onDidChangeContent((e) => {
  idle.activity();
  scheduler.changed(e.document.uri);
});
documents.onDidClose((e) => {
  scheduler.cancel(e.document.uri);
  cache.delete(e.document.uri);
  reuse.delete(e.document.uri);
  wake(e.document.uri);
  if (!pullMode) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

function languageOf(doc: TextDocument): LanguageId | undefined {
  if (doc.languageId === 'iptables' || doc.languageId === 'nftables') return doc.languageId;
  return detectLanguage(fileName(doc.uri), doc.getText());
}

function fileName(uri: string): string {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : decodeURIComponent(uri.replace(/^[a-z-]+:\/*/i, '/'));
  } catch {
    return uri;
  }
}

/** nftables `include`: an open document's text first, else the file on disk (read, never run). */
function readInclude(from: string) {
  return (p: string): string | undefined => {
    const full = path.resolve(path.dirname(from), p);
    const open = documents.all().find((d) => d.uri.startsWith('file:') && fileName(d.uri) === full);
    if (open) return open.getText();
    try {
      return readFileSync(full, 'utf8');
    } catch {
      return undefined;
    }
  };
}

/** The analysis of the document's current version, computed now if it is not cached. */
function analysisOf(doc: TextDocument): Cached {
  const known = cache.get(doc.uri);
  if (known && known.version === doc.version && known.generation === generation) return known;
  // The old analysis goes before the new one is built: two of them need not fit in memory at once.
  if (known) {
    cache.delete(doc.uri);
    idle.garbage();
  }
  const started = performance.now();
  const name = fileName(doc.uri);
  let result: Result;
  try {
    const language = languageOf(doc);
    let kept = reuse.get(doc.uri);
    if (!kept) reuse.set(doc.uri, (kept = newReuse()));
    result = analyzeDocument(doc.getText(), { language, fileName: name, readFile: readInclude(name), settings, reuse: kept });
  } catch (e) {
    // A bug in the engine must cost one document its diagnostics, not the editor its server.
    connection.console.error(`fwlens: analysis of ${doc.uri} failed: ${(e as Error).stack ?? e}`);
    reuse.delete(doc.uri); // start the next analysis from nothing
    result = { error: `internal error: ${(e as Error).message}` };
  }
  const cached: Cached = { version: doc.version, generation, result, ms: performance.now() - started };
  cache.set(doc.uri, cached);
  return cached;
}

function diagnosticsOf(uri: string, c: Cached) {
  if ('error' in c.result) return [];
  return toDiagnostics(c.result.findings, uri, {
    relatedInformation: pullMode ? caps.textDocument?.diagnostic?.relatedInformation !== false : caps.textDocument?.publishDiagnostics?.relatedInformation === true,
  });
}

function status(p: StatusParams): void {
  void connection.sendNotification(STATUS_NOTIFICATION, p);
}

/** The scheduled run: analyse, then publish (push) or wake the waiting pull requests. */
async function diagnose(uri: string): Promise<void> {
  await settingsReady;
  const doc = documents.get(uri);
  if (!doc) return;
  const version = doc.version;
  status({ uri, version, state: 'analyzing' });
  const c = analysisOf(doc);
  status({ uri, version, state: 'idle', ms: Math.round(c.ms), ...('error' in c.result ? { error: c.result.error } : {}) });
  if (pullMode) wake(uri);
  else {
    // Let changes that arrived during the analysis in first: a result for an old version is dropped
    // (the newer version has its own run scheduled).
    await new Promise((r) => setImmediate(r));
    const now = documents.get(uri);
    if (!now || now.version !== version) return;
    void connection.sendDiagnostics({ uri, version, diagnostics: diagnosticsOf(uri, c) });
  }
  // Then, while the user reads the squiggles, prepare what the first hover would otherwise build.
  await new Promise((r) => setImmediate(r));
  if (documents.get(uri)?.version === version && !('error' in c.result) && cache.get(uri) === c) {
    guarded('warming hover indexes', undefined, () => warmHoverIndexes(c.result as DocumentAnalysis));
  }
}

function wake(uri: string): void {
  const list = waiting.get(uri);
  waiting.delete(uri);
  for (const w of list ?? []) w();
}

connection.languages.diagnostics.on(async (params, token): Promise<DocumentDiagnosticReport> => {
  const uri = params.textDocument.uri;
  await settingsReady;
  if (scheduler.pending(uri)) {
    // Typing: answer when the debounced analysis has run, not for every keystroke.
    await new Promise<void>((resolve) => {
      const list = waiting.get(uri) ?? [];
      list.push(resolve);
      waiting.set(uri, list);
      token.onCancellationRequested(() => resolve());
    });
  }
  if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
  const doc = documents.get(uri);
  if (!doc) return { kind: 'full', items: [] };
  const c = analysisOf(doc);
  const resultId = `${c.version}:${c.generation}`;
  if (params.previousResultId === resultId) return { kind: 'unchanged', resultId };
  return { kind: 'full', resultId, items: diagnosticsOf(uri, c) };
});

// --- features -----------------------------------------------------------------------------------

/** The current analysis for a request, or undefined (no document, unknown format, cancelled). */
function current(uri: string, token?: CancellationToken): { doc: TextDocument; analysis: DocumentAnalysis } | undefined {
  idle.activity();
  const doc = documents.get(uri);
  if (!doc || token?.isCancellationRequested) return undefined;
  const c = analysisOf(doc);
  if ('error' in c.result || token?.isCancellationRequested) return undefined;
  return { doc, analysis: c.result };
}

/** Runs a feature; an exception is logged and answered with `fallback`, never a dead server. */
function guarded<T>(what: string, fallback: T, f: () => T): T {
  try {
    return f();
  } catch (e) {
    connection.console.error(`fwlens: ${what} failed: ${(e as Error).stack ?? e}`);
    return fallback;
  }
}

connection.onHover((params, token) => guarded('hover', null, () => {
  const cur = current(params.textDocument.uri, token);
  return cur ? hover(cur.analysis, cur.doc, params.position) : null;
}));

connection.onCodeAction((params, token) => guarded('code actions', [], () => {
  const cur = current(params.textDocument.uri, token);
  if (!cur) return [];
  const edit = caps.workspace?.workspaceEdit as { documentChanges?: boolean; snippetEditSupport?: boolean } | undefined;
  return codeActions(cur.analysis, cur.doc, params.context.diagnostics, params.context.only, {
    trustedSources: settings.trustedSources,
    snippetEdits: edit?.snippetEditSupport === true,
    documentChanges: edit?.documentChanges === true,
  });
}));

connection.onDocumentSymbol((params, token) => guarded('symbols', [], () => {
  const cur = current(params.textDocument.uri, token);
  return cur ? documentSymbols(cur.analysis) : [];
}));

connection.onFoldingRanges((params, token) => guarded('folding', [], () => {
  const doc = documents.get(params.textDocument.uri);
  if (!doc) return [];
  const cur = current(params.textDocument.uri, token);
  return foldingRanges(cur?.analysis, doc);
}));

connection.onDefinition((params, token) => guarded('definition', null, () => {
  const cur = current(params.textDocument.uri, token);
  return cur ? definition(cur.analysis, cur.doc, params.position) : null;
}));

connection.onReferences((params, token) => guarded('references', [], () => {
  const cur = current(params.textDocument.uri, token);
  return cur ? references(cur.analysis, cur.doc, params.position, params.context.includeDeclaration) : [];
}));

connection.onRequest<QueryResult, unknown>(QUERY_REQUEST, (params: QueryParams): QueryResult => guarded('query', { error: 'internal error' }, () => {
  const doc = documents.get(params.uri);
  if (!doc) return { error: `${params.uri} is not open` };
  const c = analysisOf(doc);
  if ('error' in c.result) return { error: c.result.error };
  return queryPacket(c.result, params.packet ?? {}, params.chain);
}));

connection.onRequest<ExplainResult, unknown>(EXPLAIN_REQUEST, (params: ExplainParams): ExplainResult => guarded('explain', { error: 'internal error' }, () => {
  const doc = documents.get(params.uri);
  if (!doc) return { error: `${params.uri} is not open` };
  const c = analysisOf(doc);
  if ('error' in c.result) return { error: c.result.error };
  return explainCidr(c.result, params.cidr, params.as ?? 'src', params.chain);
}));

documents.listen(connection);
connection.listen();

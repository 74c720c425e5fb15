// The server as a citizen of the protocol: incremental sync with stale results dropped, pull
// diagnostics for clients that pull, settings read and refreshed, symbols, folding, navigation,
// and the custom requests behind "Check a packet…".
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DocumentDiagnosticReport, DocumentSymbol, FoldingRange, Location } from 'vscode-languageserver-protocol';
import { LspClient, fileUri, ROOT } from './lsp-client';

const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));

describe('push diagnostics and incremental sync', () => {
  const client = new LspClient();
  const uri = fileUri('examples/outage.rules');
  const text = read('examples/outage.rules');

  before(async () => {
    const init = await client.initialize();
    assert.equal((init.capabilities.textDocumentSync as { change: number }).change, 2, 'incremental sync');
    assert.equal(init.capabilities.diagnosticProvider, undefined, 'no pull for a client that does not pull');
    client.open(uri, text);
    await client.diagnostics(uri, { version: 1 });
  });
  after(() => client.shutdown());

  it('an incremental edit that fixes the rule brings fresh diagnostics for the new version', async () => {
    const line = lineOf(text, '-A INPUT -s 0.0.0.0/0');
    const col = text.split('\n')[line].indexOf('0.0.0.0/0');
    const from = client.published.length;
    const v = client.change(uri, [{ range: { start: { line, character: col }, end: { line, character: col + '0.0.0.0/0'.length } }, text: '192.0.2.0/24' }]);
    const p = await client.diagnostics(uri, { version: v, from });
    assert.ok(!p.diagnostics.some((d) => d.code === 'catch-all-drop'), p.diagnostics.map((d) => d.code).join(','));
  });

  it('a burst of edits is coalesced and ends with diagnostics for the last version', async () => {
    const from = client.published.length;
    let v = 0;
    // Typing "# typed" at the top of the file, one character a change, as an editor sends it.
    const typed = '# typed\n';
    for (let i = 0; i < typed.length; i++) {
      v = client.change(uri, [{ range: { start: { line: 0, character: i }, end: { line: 0, character: i } }, text: typed[i] }]);
    }
    const p = await client.diagnostics(uri, { version: v, from });
    await new Promise((r) => setTimeout(r, 200));
    const versions = client.published.slice(from).filter((x) => x.uri === uri).map((x) => x.version!);
    // Coalesced (not one analysis per keystroke), in order, ending with the last version.
    assert.ok(versions.length < typed.length, `${versions.length} publications for ${typed.length} changes`);
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b));
    assert.equal(versions[versions.length - 1], v);
    // The edit moved every rule down a line, and the diagnostics say so.
    assert.ok(p.diagnostics.every((d) => d.range.start.line >= 1));
  });

  it('a configuration change that disables a code removes its diagnostics', async () => {
    client.settings = { disabledCodes: ['shadowed-rule'], severityOverrides: { 'redundant-rule': 'warning' } };
    const from = client.published.length;
    void client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    const p = await client.diagnostics(uri, { from });
    assert.ok(!p.diagnostics.some((d) => d.code === 'shadowed-rule'));
    client.settings = {};
    const from2 = client.published.length;
    void client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    const p2 = await client.diagnostics(uri, { from: from2 });
    assert.ok(p2.diagnostics.length >= p.diagnostics.length);
  });

  it('closing the document clears its diagnostics', async () => {
    const from = client.published.length;
    client.close(uri);
    const p = await client.diagnostics(uri, { from });
    assert.deepEqual(p.diagnostics, []);
  });
});

describe('pull diagnostics', () => {
  const client = new LspClient();
  const uri = fileUri('examples/outage.rules');
  const text = read('examples/outage.rules');

  before(async () => {
    const init = await client.initialize({ pull: true });
    assert.ok(init.capabilities.diagnosticProvider, 'pull offered to a client that pulls');
    client.open(uri, text);
  });
  after(() => client.shutdown());

  it('answers textDocument/diagnostic, never pushes, and says unchanged for the same result', async () => {
    const r = await client.request<DocumentDiagnosticReport & { resultId: string; items: { code: string }[] }>('textDocument/diagnostic', { textDocument: { uri } });
    assert.equal(r.kind, 'full');
    assert.ok(r.items.some((d) => d.code === 'catch-all-drop'));
    const again = await client.request<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri }, previousResultId: r.resultId });
    assert.equal(again.kind, 'unchanged');
    const v = client.change(uri, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '# edited\n' }]);
    const r2 = await client.request<DocumentDiagnosticReport & { items: { code: string; range: { start: { line: number } } }[] }>('textDocument/diagnostic', { textDocument: { uri }, previousResultId: r.resultId });
    assert.equal(r2.kind, 'full');
    assert.equal(r2.items.find((d) => d.code === 'catch-all-drop')!.range.start.line, lineOf(text, '-A INPUT -s 0.0.0.0/0') + 1, `moved down a line with version ${v}`);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(client.published.length, 0, 'nothing pushed to a pulling client');
  });

  it('asks the client to pull again when the settings change', async () => {
    const before = client.refreshes;
    client.settings = { codes: { 'catch-all-drop': { severity: 'warning' } } };
    void client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await client.until(() => client.refreshes > before, 5000, 'workspace/diagnostic/refresh');
    const r = await client.request<{ items: { code: string; severity: number }[] }>('textDocument/diagnostic', { textDocument: { uri } });
    assert.equal(r.items.find((d) => d.code === 'catch-all-drop')!.severity, 2);
  });
});

describe('symbols, folding, navigation, custom requests', () => {
  const client = new LspClient();
  const uri = fileUri('examples/good-server.rules');
  const text = read('examples/good-server.rules');

  before(async () => {
    await client.initialize();
    client.open(uri, text);
    await client.diagnostics(uri, { version: 1 });
  });
  after(() => client.shutdown());

  it('outlines tables, chains and rules', async () => {
    const syms = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(syms.map((s) => s.name), ['filter']);
    const chains = syms[0].children!;
    assert.deepEqual(chains.map((c) => c.name).sort(), ['FORWARD', 'INPUT', 'OUTPUT', 'SSH']);
    const input = chains.find((c) => c.name === 'INPUT')!;
    assert.equal(input.children!.length, 6);
    assert.equal(input.children![0].range.start.line, lineOf(text, '-A INPUT -i lo'));
    assert.equal(chains.find((c) => c.name === 'SSH')!.children!.length, 3);
    for (const s of [syms[0], ...chains]) {
      const inside = (a: DocumentSymbol['range'], b: DocumentSymbol['range']) => (a.start.line > b.start.line || (a.start.line === b.start.line && a.start.character >= b.start.character)) && (a.end.line < b.end.line || (a.end.line === b.end.line && a.end.character <= b.end.character));
      assert.ok(inside(s.selectionRange, s.range), `${s.name}: selectionRange inside range`);
    }
  });

  it('folds the table and the leading comment', async () => {
    const folds = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri } });
    assert.ok(folds.some((f) => f.startLine === lineOf(text, '*filter') && f.endLine === lineOf(text, 'COMMIT')), JSON.stringify(folds));
  });

  it('goes from a jump target to the chain declaration and finds the jumps', async () => {
    const line = lineOf(text, '-j SSH');
    const col = text.split('\n')[line].indexOf('-j SSH') + 4;
    const def = await client.request<Location>('textDocument/definition', { textDocument: { uri }, position: { line, character: col } });
    assert.equal(def.range.start.line, lineOf(text, ':SSH'));
    const refs = await client.request<Location[]>('textDocument/references', { textDocument: { uri }, position: { line: lineOf(text, ':SSH'), character: 2 }, context: { includeDeclaration: false } });
    assert.deepEqual(refs.map((r) => [r.range.start.line, r.range.start.character, r.range.end.character]), [[line, col - 1, col + 2]]);
    const all = await client.request<Location[]>('textDocument/references', { textDocument: { uri }, position: { line, character: col }, context: { includeDeclaration: true } });
    assert.equal(all.length, 1 + 1 + 3, 'declaration, the jump, and the three -A SSH rules');
  });

  it('fwlens/query and fwlens/explain answer like the CLI', async () => {
    const q = await client.request<{ verdict: string; decidedBy: string }>('fwlens/query', { uri, packet: { src: '203.0.113.9', dst: '192.0.2.1', proto: 'tcp', dport: 22 } });
    assert.equal(q.verdict, 'accept');
    assert.equal(q.decidedBy, `line ${lineOf(text, '-A SSH -s 203.0.113.0/24') + 1}`);
    const q2 = await client.request<{ verdict: string }>('fwlens/query', { uri, packet: { src: '192.0.2.50', dst: '192.0.2.1', proto: 'tcp', dport: 22 } });
    assert.equal(q2.verdict, 'drop');
    const e = await client.request<{ parts: { verdict: string }[] }>('fwlens/explain', { uri, cidr: '198.51.100.7' });
    assert.ok(e.parts.some((p) => p.verdict === 'accept'));
    const bad = await client.request<{ error?: string }>('fwlens/query', { uri: 'file:///nope.rules', packet: {} });
    assert.ok(bad.error);
  });
});

describe('node IPC transport (how the VS Code client may start it)', () => {
  it('initializes and publishes diagnostics over --node-ipc', async () => {
    const { fork } = await import('node:child_process');
    const { createMessageConnection, IPCMessageReader, IPCMessageWriter } = await import('vscode-jsonrpc/node');
    const { SERVER } = await import('./lsp-client');
    const child = fork(SERVER, ['--node-ipc'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const conn = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    const got = new Promise<{ diagnostics: { code: string }[] }>((resolve) => conn.onNotification('textDocument/publishDiagnostics', resolve));
    conn.listen();
    try {
      await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
      await conn.sendNotification('initialized', {});
      const uri = fileUri('examples/outage.rules');
      await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'iptables', version: 1, text: read('examples/outage.rules') } });
      const p = await got;
      assert.ok(p.diagnostics.some((d) => d.code === 'catch-all-drop'));
      await conn.sendRequest('shutdown');
      await conn.sendNotification('exit');
    } finally {
      conn.dispose();
      child.kill();
    }
  });
});

describe('a large file stays responsive', () => {
  const client = new LspClient();
  const uri = 'file:///tmp/fwlens-large.rules';
  let text = '';

  before(async () => {
    const { generateRules } = await import('./gen-rules');
    const lines = generateRules(3000).split('\n');
    // A rule whose CIDR meets every other rule: the worst case for a hover.
    lines.splice(lines.indexOf('-A INPUT -i lo -j ACCEPT'), 0, '-A INPUT -s 0.0.0.0/0 -p tcp --dport 9999 -j ACCEPT');
    text = lines.join('\n');
    await client.initialize();
    client.open(uri, text);
    await client.diagnostics(uri, { version: 1, timeoutMs: 60_000 });
  });
  after(() => client.shutdown());

  it('answers a hover on 0.0.0.0/0 quickly (a capped walk), and one on a /24 with a table', async () => {
    const lines = text.split('\n');
    const wide = lines.findIndex((l) => l.includes('0.0.0.0/0'));
    let t = performance.now();
    const h = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: { line: wide, character: 13 } });
    assert.ok(performance.now() - t < 2000, `${performance.now() - t} ms`);
    assert.match(h.contents.value, /4,294,967,296 addresses/);
    const narrow = lines.findIndex((l) => /-s \d+\.\d+\.\d+\.0\/24 /.test(l));
    t = performance.now();
    const h2 = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: { line: narrow, character: 13 } });
    assert.ok(performance.now() - t < 2000, `${performance.now() - t} ms`);
    assert.match(h2.contents.value, /\| Traffic \| Verdict \| Decided by \|/);
  });
});

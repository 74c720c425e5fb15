// The same protocol features on nftables: diagnostics and fixes written in nft syntax (checked by
// `nft -c` in a private network namespace when root), folding of braces, chain navigation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CodeAction, Diagnostic, DocumentSymbol, FoldingRange, Hover, Location } from 'vscode-languageserver-protocol';
import { analyzeDocument } from '../../server/src/features/document';
import { LspClient, fileUri, ROOT } from './lsp-client';
import { applyTextEdits, editsFor } from './apply-edits';

const FILE = 'test/lsp/fixtures/outage.nft';
const text = readFileSync(path.join(ROOT, FILE), 'utf8');
const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle));

function nftCheck(t: string): string | undefined | 'skip' {
  if (process.getuid?.() !== 0) return 'skip';
  const r = spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: t, encoding: 'utf8' });
  if (r.error) return 'skip';
  return r.status === 0 ? undefined : r.stderr.trim();
}

describe('nftables over LSP', () => {
  const client = new LspClient();
  const uri = fileUri(FILE);
  let diags: Diagnostic[] = [];

  before(async () => {
    await client.initialize();
    client.open(uri, text, 'nftables');
    diags = (await client.diagnostics(uri, { version: 1 })).diagnostics;
  });
  after(() => client.shutdown());

  it('reports the catch-all drop and no syntax error', () => {
    assert.deepEqual(diags.filter((d) => d.code === 'syntax').map((d) => d.message), []);
    const d = diags.find((x) => x.code === 'catch-all-drop');
    assert.ok(d, diags.map((x) => x.code).join(','));
    assert.equal(d.range.start.line, lineOf('ip saddr 0.0.0.0/0 drop'));
  });

  it('every quick fix is written in nft syntax, passes nft -c, and removes its finding', async (t) => {
    let checked = 0;
    for (const d of diags) {
      const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only: ['quickfix'] } });
      if (d.code === 'catch-all-drop') assert.ok(actions.length >= 4, actions.map((a) => a.title).join(' / '));
      for (const a of actions) {
        const fixed = applyTextEdits(text, editsFor(a.edit!, uri));
        const what = `"${a.title}" for ${d.code} on line ${d.range.start.line + 1}`;
        const doc = analyzeDocument(fixed, { language: 'nftables' });
        assert.ok(!('error' in doc), what);
        assert.deepEqual(doc.findings.filter((f) => f.code === 'syntax').map((f) => f.message), [], `${what} parses`);
        const nft = nftCheck(fixed);
        if (nft === 'skip') t.diagnostic('nft -c skipped (not root or no nft)');
        else assert.equal(nft, undefined, `${what}: nft -c accepts it`);
        if (!/^Insert /.test(a.title)) {
          const original = text.split('\n')[d.range.start.line];
          const still = doc.findings.filter((f) => f.code === d.code && fixed.split('\n')[f.range.start.line] === original);
          assert.deepEqual(still.map((f) => f.message), [], `${what} removes the finding`);
        }
        checked++;
      }
    }
    assert.ok(checked >= 6, `checked ${checked}`);
  });

  it('the narrowing fix writes `ip saddr` from the comment', async () => {
    const d = diags.find((x) => x.code === 'catch-all-drop')!;
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    const fixed = applyTextEdits(text, editsFor(actions.find((a) => a.isPreferred)!.edit!, uri));
    assert.equal(fixed.split('\n')[d.range.start.line], '    ip saddr 192.0.2.0/24 drop comment "block scanner range 192.0.2.0/24"');
  });

  it('hover on 203.0.113.0/24: dropped by the catch-all, not accepted by its own rule', async () => {
    const line = lineOf('ip saddr 203.0.113.0/24');
    const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: text.split('\n')[line].indexOf('203.0') + 2 } });
    const value = (h.contents as { value: string }).value;
    assert.match(value, new RegExp(`\\| \\*\\*DROP\\*\\* \\| \\[line ${lineOf('0.0.0.0/0') + 1}\\]`));
    assert.doesNotMatch(value, new RegExp(`\\[line ${line + 1}\\]`));
  });

  it('folds braces, outlines the chains, and jumps to a chain', async () => {
    const folds = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri } });
    assert.ok(folds.some((f) => f.startLine === lineOf('chain input') && f.endLine === lineOf('jump extra')), JSON.stringify(folds));
    assert.ok(folds.some((f) => f.startLine === lineOf('table ip filter')));
    const syms = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(syms[0].children!.map((c) => c.name), ['input', 'extra']);
    const line = lineOf('jump extra');
    const def = await client.request<Location>('textDocument/definition', { textDocument: { uri }, position: { line, character: text.split('\n')[line].indexOf('extra') + 1 } });
    assert.equal(def.range.start.line, lineOf('chain extra'));
    const refs = await client.request<Location[]>('textDocument/references', { textDocument: { uri }, position: { line: lineOf('chain extra'), character: text.split('\n')[lineOf('chain extra')].indexOf('extra') + 1 }, context: { includeDeclaration: false } });
    assert.deepEqual(refs.map((r) => r.range.start.line), [line]);
  });
});

describe('examples/router.nft over LSP', () => {
  const client = new LspClient();
  const uri = fileUri('examples/router.nft');
  const src = readFileSync(path.join(ROOT, 'examples/router.nft'), 'utf8');
  before(async () => {
    await client.initialize();
    client.open(uri, src, 'nftables');
    await client.diagnostics(uri, { version: 1 });
  });
  after(() => client.shutdown());

  it('hover on a set element explains it as the source address the rule using the set matches', async () => {
    const line = src.split('\n').findIndex((l) => l.includes('198.51.100.0/24'));
    const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: src.split('\n')[line].indexOf('198.51') + 2 } });
    const value = (h.contents as { value: string }).value;
    assert.match(value, /198\.51\.100\.0\/24\*\* as source/);
    const blocked = src.split('\n').findIndex((l) => l.includes('ip saddr @blocked drop'));
    assert.match(value, new RegExp(`\\*\\*DROP\\*\\* \\| \\[line ${blocked + 1}\\]`), value);
  });
});

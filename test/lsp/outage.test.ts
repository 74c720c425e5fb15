// The motivating outage, end to end over the protocol: the catch-all DROP is an error with its
// related rules; hovers on its CIDRs say what iptables would do; every quick fix applies, parses,
// loads into a real kernel namespace (as root) and removes its finding.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CodeAction, Diagnostic, Hover } from 'vscode-languageserver-protocol';
import { analyzeDocument } from '../../server/src/features/document';
import { LspClient, fileUri, ROOT } from './lsp-client';
import { applyTextEdits, editsFor } from './apply-edits';
import { canLoadIptables, iptablesRestoreError } from './kernel';

const OUTAGE = 'examples/outage.rules';
const MISTAKES = 'examples/mistakes.rules';
const GOOD = 'examples/good-server.rules';

function read(p: string): string {
  return readFileSync(path.join(ROOT, p), 'utf8');
}

function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `no line with ${needle}`);
  return i;
}

/** Rows of the hover's Markdown table: traffic, verdict, deciding line (1-based) or 'policy'. */
function rows(h: Hover | null): { traffic: string; verdict: string; by: string }[] {
  assert.ok(h, 'a hover');
  const value = (h.contents as { value: string }).value;
  return value.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Traffic') && !l.startsWith('| ---') && !l.startsWith('| …'))
    .map((l) => {
      const cells = l.slice(2, -2).split(' | ');
      const line = /\[line (\d+)\]/.exec(cells[2]);
      return { traffic: cells[0].replace(/\\/g, ''), verdict: cells[1].replace(/\*/g, ''), by: /policy/.test(cells[2]) ? 'policy' : line ? line[1] : cells[2] };
    });
}

function hoverText(h: Hover | null): string {
  assert.ok(h, 'a hover');
  return (h.contents as { value: string }).value;
}

/**
 * One example opened in a fresh server for a describe block: the server starts before its tests,
 * the document's first diagnostics are awaited, and the server shuts down after.
 */
function overLsp(file: string): { client: LspClient; uri: string; text: string; diags: Diagnostic[] } {
  const doc = { client: new LspClient(), uri: fileUri(file), text: read(file), diags: [] as Diagnostic[] };
  before(async () => {
    await doc.client.initialize();
    doc.client.open(doc.uri, doc.text);
    doc.diags = (await doc.client.diagnostics(doc.uri, { version: 1 })).diagnostics;
  });
  after(() => doc.client.shutdown());
  return doc;
}

describe('outage.rules over LSP', () => {
  const doc = overLsp(OUTAGE);
  const { client, uri, text } = doc;

  it('reports the catch-all DROP as an error on its line, with the rules it hides', () => {
    const dropLine = lineOf(text, '-A INPUT -s 0.0.0.0/0');
    const d = doc.diags.find((x) => x.code === 'catch-all-drop');
    assert.ok(d, `catch-all-drop among ${doc.diags.map((x) => x.code).join(', ')}`);
    assert.equal(d.severity, 1);
    assert.equal(d.source, 'fwlens');
    assert.equal(d.range.start.line, dropLine);
    const related = (d.relatedInformation ?? []).map((r) => r.location.range.start.line);
    for (const needle of ['RELATED,ESTABLISHED', '203.0.113.0/24', '--dports 80,443', '198.51.100.0/24', '--icmp-type 8']) {
      assert.ok(related.includes(lineOf(text, needle)), `related info points at the rule with ${needle}`);
    }
    for (const r of d.relatedInformation ?? []) assert.equal(r.location.uri, uri);
  });

  it('hover on 0.0.0.0/0: loopback accepted by line 8, everything else dropped by the catch-all', async () => {
    const line = lineOf(text, '-A INPUT -s 0.0.0.0/0');
    const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: text.split('\n')[line].indexOf('0.0.0.0/0') + 3 } });
    const r = rows(h);
    const lo = r.find((x) => x.by === String(lineOf(text, '-i lo') + 1));
    assert.ok(lo && lo.verdict === 'ACCEPT' && /in on lo/.test(lo.traffic), JSON.stringify(r));
    const drop = r.find((x) => x.by === String(line + 1));
    assert.ok(drop && drop.verdict === 'DROP', JSON.stringify(r));
    assert.equal(r.length, 2, 'nothing else decides any of it: every later rule is hidden');
    assert.match(hoverText(h), /0\.0\.0\.0 – 255\.255\.255\.255 \(4,294,967,296 addresses\)/);
  });

  for (const [needle, cidr] of [['--dport 22', '203.0.113.0/24'], ['--dport 5432', '198.51.100.0/24']] as const) {
    it(`hover on ${cidr}: its own ACCEPT never decides; the catch-all drops it`, async () => {
      const line = lineOf(text, needle);
      const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: text.split('\n')[line].indexOf(cidr) + 1 } });
      const r = rows(h);
      assert.ok(!r.some((x) => x.by === String(line + 1)), 'the allow rule decides nothing');
      assert.ok(r.some((x) => x.by === String(lineOf(text, '-A INPUT -s 0.0.0.0/0') + 1) && x.verdict === 'DROP' && x.traffic.includes(cidr)), JSON.stringify(r));
      assert.ok(r.some((x) => x.verdict === 'ACCEPT' && /in on lo/.test(x.traffic)), 'loopback still accepted');
      assert.match(hoverText(h), /256 addresses/);
    });
  }

  it('hover on the rule text says what reaches it and that it is shadowed', async () => {
    const line = lineOf(text, '--dport 22');
    const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: text.split('\n')[line].indexOf('ACCEPT') + 1 } });
    assert.match(hoverText(h), /Shadowed/);
    assert.match(hoverText(h), new RegExp(`line ${lineOf(text, '-A INPUT -s 0.0.0.0/0') + 1}`));
  });

  it('hover on a port and a protocol names the service', async () => {
    const line = lineOf(text, '--dport 5432');
    const l = text.split('\n')[line];
    const port = hoverText(await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: l.indexOf('5432') + 1 } }));
    assert.match(port, /postgresql/);
    const proto = hoverText(await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: l.indexOf('-p tcp') + 4 } }));
    assert.match(proto, /tcp.*protocol number 6/);
    const line2 = lineOf(text, '--dports 80,443');
    const l2 = text.split('\n')[line2];
    const https = hoverText(await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line: line2, character: l2.indexOf('443') + 1 } }));
    assert.match(https, /https/);
  });

  it('hover on the chain policy gives the default and what it lets in', async () => {
    const line = lineOf(text, ':INPUT ACCEPT');
    const h = hoverText(await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: 9 } }));
    assert.match(h, /Default policy: \*\*ACCEPT\*\*/);
    assert.match(h, /Lets in.*in on lo/);
    const ref = hoverText(await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line: lineOf(text, '-i lo'), character: 4 } }));
    assert.match(ref, /Chain INPUT/);
  });

  it('every quick fix applies, parses, loads, and removes its finding', async (t) => {
    const kernel = canLoadIptables();
    if (!kernel) t.diagnostic('not root or no unshare: the kernel load check is skipped');
    let checked = 0;
    for (const d of doc.diags) {
      const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only: ['quickfix'] } });
      if (d.code === 'catch-all-drop') assert.ok(actions.length >= 4, `four kinds of fix for the catch-all, got ${actions.map((a) => a.title).join(' / ')}`);
      for (const a of actions) {
        const after = applyTextEdits(text, editsFor(a.edit!, uri));
        checkFix(text, after, d, a, kernel);
        checked++;
      }
    }
    assert.ok(checked >= 10, `checked ${checked} fixes`);
  });

  it('the preferred catch-all fix narrows the rule to the range in its comment', async () => {
    const d = doc.diags.find((x) => x.code === 'catch-all-drop')!;
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    const preferred = actions.find((a) => a.isPreferred);
    assert.ok(preferred, 'a preferred fix');
    const after = applyTextEdits(text, editsFor(preferred.edit!, uri));
    assert.equal(after.split('\n')[d.range.start.line], '-A INPUT -s 192.0.2.0/24 -m comment --comment "block scanner range 192.0.2.0/24" -j DROP');
    // Only that line changed.
    const a = text.split('\n');
    const b = after.split('\n');
    assert.equal(a.length, b.length);
    assert.deepEqual(a.filter((_, i) => i !== d.range.start.line), b.filter((_, i) => i !== d.range.start.line));
  });
});

describe('mistakes.rules over LSP', () => {
  const doc = overLsp(MISTAKES);
  const { client, uri, text } = doc;

  it('finds each mistake on its line', () => {
    const at = (code: string) => doc.diags.filter((d) => d.code === code).map((d) => d.range.start.line);
    assert.ok(at('open-to-world').includes(lineOf(text, '-p tcp --dport 22 -j ACCEPT')));
    assert.ok(at('cidr-host-bits').includes(lineOf(text, '-s 10.20.30.40/16')));
    assert.ok(at('shadowed-rule').includes(lineOf(text, '-s 10.20.5.0/24')));
    assert.ok(at('redundant-rule').includes(lineOf(text, '-s 10.20.0.0/16')));
    const redundant = doc.diags.find((d) => d.code === 'redundant-rule')!;
    assert.deepEqual(redundant.tags, [1]);
    assert.ok(at('undefined-reference').includes(lineOf(text, '-j LOGDROP')));
  });

  it('hover on 10.20.30.40/16: host bits warning; ssh, 8080 and established accepted, the rest dropped by policy', async () => {
    const line = lineOf(text, '-s 10.20.30.40/16');
    const l = text.split('\n')[line];
    const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: l.indexOf('10.20.30.40') + 2 } });
    assert.match(hoverText(h), /Host bits set/);
    assert.match(hoverText(h), /10\.20\.0\.0 – 10\.20\.255\.255 \(65,536 addresses\)/);
    const r = rows(h);
    const by = (n: string) => r.find((x) => x.by === String(lineOf(text, n) + 1));
    assert.equal(by('RELATED,ESTABLISHED')?.verdict, 'ACCEPT');
    assert.equal(by('-p tcp --dport 22 -j ACCEPT')?.verdict, 'ACCEPT');
    assert.match(by('-p tcp --dport 22 -j ACCEPT')!.traffic, /dport 22/);
    assert.equal(by('-s 10.20.30.40/16')?.verdict, 'ACCEPT');
    assert.match(by('-s 10.20.30.40/16')!.traffic, /dport 8080/);
    assert.equal(r.find((x) => x.by === 'policy')?.verdict, 'DROP');
    assert.ok(!by('10.20.5.0/24 -p tcp'), 'the shadowed DROP decides nothing');
  });

  it('hover on 192.0.2.0/24 (jump to a missing chain): the policy decides, the jump does not', async () => {
    const line = lineOf(text, '-j LOGDROP');
    const l = text.split('\n')[line];
    const r = rows(await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: l.indexOf('192.0.2.0') + 1 } }));
    assert.equal(r.find((x) => x.by === 'policy')?.verdict, 'DROP');
  });

  it('every quick fix applies, parses, loads, and removes its finding', async (t) => {
    const kernel = canLoadIptables();
    if (!kernel) t.diagnostic('not root: kernel load check skipped');
    for (const d of doc.diags) {
      const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only: ['quickfix'] } });
      assert.ok(actions.length > 0 || d.code === 'open-to-world' || d.code === 'lockout', `a fix for ${d.code} on line ${d.range.start.line + 1}`);
      for (const a of actions) checkFix(text, applyTextEdits(text, editsFor(a.edit!, uri)), d, a, kernel, true);
    }
  });

  it('open-to-world narrows to the trusted sources, one rule per range', async () => {
    client.settings = { trustedSources: ['10.0.0.0/8', '192.168.1.0/24'] };
    void client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    const from = client.published.length;
    await client.diagnostics(uri, { from });
    const d = doc.diags.find((x) => x.code === 'open-to-world')!;
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only: ['quickfix'] } });
    const a = actions.find((x) => /trusted/.test(x.title));
    assert.ok(a, actions.map((x) => x.title).join(' / '));
    const after = applyTextEdits(text, editsFor(a.edit!, uri));
    assert.ok(after.includes('-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT\n-A INPUT -s 192.168.1.0/24 -p tcp --dport 22 -j ACCEPT\n'), after);
    checkFix(text, after, d, a, canLoadIptables(), true);
  });

  it('source.fixAll.fwlens fixes host bits and deletes redundant rules, nothing else', async () => {
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [], only: ['source.fixAll'] } });
    assert.equal(actions.length, 1);
    assert.equal(actions[0].kind, 'source.fixAll.fwlens');
    const after = applyTextEdits(text, editsFor(actions[0].edit!, uri));
    const doc = analyzeDocument(after, { language: 'iptables' });
    assert.ok(!('error' in doc));
    const codes = doc.findings.map((f) => f.code);
    assert.ok(!codes.includes('cidr-host-bits') && !codes.includes('redundant-rule') && !codes.includes('syntax'), codes.join(','));
    assert.ok(after.includes('-s 10.20.0.0/16 -p tcp --dport 8080 -j ACCEPT'));
    assert.equal(text.split('\n').length - after.split('\n').length, 1, 'exactly one line (the redundant rule) deleted');
  });
});

describe('good-server.rules over LSP', () => {
  const { client, uri, text } = overLsp(GOOD);

  it('hover on a CIDR in a user chain explains it through INPUT, which jumps there', async () => {
    const line = lineOf(text, '-A SSH -s 203.0.113.0/24');
    const r = rows(await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: 12 } }));
    const by = (n: string) => r.find((x) => x.by === String(lineOf(text, n) + 1));
    assert.equal(by('-i lo')?.verdict, 'ACCEPT');
    assert.equal(by('RELATED,ESTABLISHED')?.verdict, 'ACCEPT');
    assert.equal(by('INVALID -j DROP')?.verdict, 'DROP');
    assert.equal(by('-A SSH -s 203.0.113.0/24')?.verdict, 'ACCEPT');
    assert.match(by('-A SSH -s 203.0.113.0/24')!.traffic, /tcp dport 22/);
    assert.equal(by('--dports 80,443')?.verdict, 'ACCEPT');
    assert.equal(by('--icmp-type 8')?.verdict, 'depends', 'a rate limit: the analysis cannot know');
    assert.equal(r.find((x) => x.by === 'policy')?.verdict, 'DROP');
  });
});

/** The fixed text parses, loads into the kernel (when possible), and its finding is gone. */
function checkFix(before: string, after: string, d: Diagnostic, a: CodeAction, kernel: boolean, quiet = false): void {
  const what = `"${a.title}" for ${d.code} on line ${d.range.start.line + 1}`;
  assert.notEqual(after, before, `${what} changes the text`);
  const doc = analyzeDocument(after, { language: 'iptables' });
  assert.ok(!('error' in doc), what);
  const syntax = doc.findings.filter((f) => f.code === 'syntax' || f.code === 'invalid-value');
  assert.deepEqual(syntax.map((f) => f.message), [], `${what} parses`);
  // The kernel check needs a file that loads to begin with (mistakes.rules jumps to a missing chain).
  if (kernel && loads(before)) assert.equal(iptablesRestoreError(after), undefined, `${what}: iptables-restore accepts it`);
  // An inserted ESTABLISHED/loopback accept makes the rule safer but leaves it a catch-all.
  if (/^Insert /.test(a.title)) return;
  const lineText = before.split('\n')[d.range.start.line];
  const still = doc.findings.filter((f) => f.code === d.code && after.split('\n')[f.range.start.line] === lineText && sameToken(before, d, after, f.range));
  assert.deepEqual(still.map((f) => f.message), [], `${what} removes the finding`);
  if (d.code === 'catch-all-drop') {
    const was = analyzeDocument(before, { language: 'iptables' });
    const count = (x: typeof doc) => x.findings.filter((f) => f.code === 'catch-all-drop').length;
    assert.ok(!('error' in was) && count(doc) < count(was), `${what}: one catch-all fewer (${"error" in was ? "?" : count(was)} → ${count(doc)})\n${after}`);
  }
  void quiet;
}

const loadable = new Map<string, boolean>();
function loads(text: string): boolean {
  if (!loadable.has(text)) loadable.set(text, iptablesRestoreError(text) === undefined);
  return loadable.get(text)!;
}

function sameToken(before: string, d: Diagnostic, after: string, r: Diagnostic['range']): boolean {
  const tok = (t: string, x: Diagnostic['range']) => t.split('\n')[x.start.line].slice(x.start.character, x.end.character);
  return tok(before, d.range) === tok(after, r);
}

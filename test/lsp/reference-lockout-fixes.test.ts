// Fixes for the two findings that leave a ruleset broken rather than too open: a jump to a chain
// that does not exist (the file does not load), and a default deny with no way back in (the SSH
// session that loads it is cut). Over the protocol, in both formats; the fixed text must parse, load
// into a kernel namespace where that is possible (root), and no longer have the finding.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { CodeAction, Diagnostic } from 'vscode-languageserver-protocol';
import { analyzeDocument } from '../../server/src/features/document';
import { LspClient } from './lsp-client';
import { applyTextEdits, editsFor } from './apply-edits';
import { canLoadIptables, iptablesRestoreError } from './kernel';

type Lang = 'iptables' | 'nftables';

/** undefined when the kernel takes it; 'skip' when it cannot be asked here. */
function kernelError(text: string, lang: Lang): string | undefined | 'skip' {
  if (lang === 'iptables') return canLoadIptables() ? iptablesRestoreError(text) : 'skip';
  if (process.getuid?.() !== 0) return 'skip';
  const r = spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: text, encoding: 'utf8' });
  if (r.error) return 'skip';
  return r.status === 0 ? undefined : r.stderr.trim();
}

function findings(text: string, lang: Lang) {
  const doc = analyzeDocument(text, { language: lang });
  assert.ok(!('error' in doc));
  return doc.findings;
}

let n = 0;

/** Opens `text`, returns its diagnostics of `code` and a way to ask for their quick fixes. */
function session(settings: Record<string, unknown> = {}) {
  const client = new LspClient();
  before(async () => {
    client.settings = settings;
    await client.initialize();
  });
  after(() => client.shutdown());
  return async (text: string, lang: Lang, code: string): Promise<{ d: Diagnostic; fixes: CodeAction[]; apply: (a: CodeAction) => string }> => {
    const uri = `file:///tmp/fwlens-fixes-${n++}.${lang === 'iptables' ? 'rules' : 'nft'}`;
    client.open(uri, text, lang);
    const diags = (await client.diagnostics(uri, { version: 1 })).diagnostics;
    const d = diags.find((x) => x.code === code);
    assert.ok(d, `a ${code} finding among ${diags.map((x) => `${x.code}: ${x.message}`).join('\n')}`);
    const fixes = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only: ['quickfix'] } });
    return { d, fixes, apply: (a) => applyTextEdits(text, editsFor(a.edit!, uri)) };
  };
}

function assertLoads(t: { diagnostic: (m: string) => void }, text: string, lang: Lang, what: string): void {
  const e = kernelError(text, lang);
  if (e === 'skip') t.diagnostic(`${what}: the kernel check needs root`);
  else assert.equal(e, undefined, `${what}: the kernel takes it\n${text}`);
}

describe('fixes for a jump to a missing chain', () => {
  const open = session();

  it('iptables: declares the chain with the table\'s other declarations, and the file loads', async (t) => {
    const text = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s 192.0.2.0/24 -j LOGDROP\nCOMMIT\n';
    assert.notEqual(kernelError(text, 'iptables'), undefined, 'the kernel refuses the file as it is');
    const { fixes, apply } = await open(text, 'iptables', 'undefined-reference');
    const declare = fixes.find((a) => /Declare/.test(a.title));
    assert.ok(declare, fixes.map((a) => a.title).join(' / '));
    const fixed = apply(declare);
    assert.equal(fixed.split('\n')[4], ':LOGDROP - [0:0]', fixed);
    assert.deepEqual(findings(fixed, 'iptables').map((f) => f.code), []);
    assertLoads(t, fixed, 'iptables', declare.title);
  });

  it('iptables: offers the chain the name was probably meant to be', async (t) => {
    const text = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:LOG_DROP - [0:0]\n-A LOG_DROP -j DROP\n-A INPUT -s 192.0.2.0/24 -j LOG_DORP\nCOMMIT\n';
    const { fixes, apply } = await open(text, 'iptables', 'undefined-reference');
    const change = fixes.find((a) => a.title === 'Change to LOG_DROP');
    assert.ok(change?.isPreferred, fixes.map((a) => a.title).join(' / '));
    const fixed = apply(change);
    assert.ok(fixed.includes('-A INPUT -s 192.0.2.0/24 -j LOG_DROP\n'), fixed);
    assert.deepEqual(findings(fixed, 'iptables').filter((f) => f.code === 'undefined-reference'), []);
    assertLoads(t, fixed, 'iptables', change.title);
    // Names far from it are no suggestion: a built-in chain cannot be jumped to.
    assert.ok(!fixes.some((a) => /Change to (INPUT|OUTPUT|FORWARD)/.test(a.title)), fixes.map((a) => a.title).join(' / '));
  });

  it('nftables: an empty chain block before the chain that jumps, or the near name', async (t) => {
    const text = [
      'table inet filter {',
      '  chain logdrop {',
      '    drop',
      '  }',
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      '    ip saddr 192.0.2.0/24 jump log_drop',
      '  }',
      '}',
      '',
    ].join('\n');
    const { fixes, apply } = await open(text, 'nftables', 'undefined-reference');
    const change = fixes.find((a) => a.title === 'Change to logdrop');
    const declare = fixes.find((a) => /Declare an empty chain log_drop/.test(a.title));
    assert.ok(change && declare, fixes.map((a) => a.title).join(' / '));
    for (const a of [change, declare]) {
      const fixed = apply(a);
      assert.deepEqual(findings(fixed, 'nftables').filter((f) => f.code === 'undefined-reference' || f.code === 'syntax'), [], `${a.title}\n${fixed}`);
      assertLoads(t, fixed, 'nftables', a.title);
    }
    assert.ok(apply(declare).includes('  chain log_drop {\n  }\n  chain input {'), apply(declare));
  });

  it('nftables: a missing set gets the near name, with its @', async () => {
    const text = 'table ip t {\n  set blocked { type ipv4_addr; elements = { 198.51.100.1 } }\n  chain input {\n    type filter hook input priority 0;\n    ip saddr @blokced drop\n  }\n}\n';
    const { fixes, apply } = await open(text, 'nftables', 'undefined-reference');
    const change = fixes.find((a) => a.title === 'Change to @blocked');
    assert.ok(change, fixes.map((a) => a.title).join(' / '));
    assert.ok(apply(change).includes('    ip saddr @blocked drop\n'));
    assert.ok(!fixes.some((a) => /Declare/.test(a.title)), 'a set is not declared: its type is unknown');
    // A set made by a command is a name of its table too.
    const byCommand = 'table ip t {\n  chain input {\n    type filter hook input priority 0;\n  }\n}\nadd set ip t allowed { type ipv4_addr; }\nadd rule ip t input ip saddr @alowed accept\n';
    const second = await open(byCommand, 'nftables', 'undefined-reference');
    assert.ok(second.fixes.some((a) => a.title === 'Change to @allowed'), second.fixes.map((a) => a.title).join(' / '));
  });
});

describe('fixes for a lockout', () => {
  const open = session({ trustedSources: ['198.51.100.0/24'] });

  const cases: { lang: Lang; name: string; text: string }[] = [
    { lang: 'iptables', name: 'a deny policy after an allow rule', text: '*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT\nCOMMIT\n' },
    { lang: 'iptables', name: 'a deny policy and no rule at all', text: '*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' },
    { lang: 'iptables', name: 'a final drop rule', text: '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n' },
    { lang: 'nftables', name: 'a deny policy after an allow rule', text: 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n\t\ttcp dport 443 accept\n\t}\n}\n' },
    { lang: 'nftables', name: 'a deny policy and no rule at all', text: 'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n  }\n}\n' },
  ];

  for (const c of cases) {
    it(`${c.lang}, ${c.name}: established replies first, then administration from the trusted sources`, async (t) => {
      const first = await open(c.text, c.lang, 'lockout');
      assert.match(String(first.d.message), /ESTABLISHED/);
      const established = first.fixes.find((a) => /ESTABLISHED,RELATED/.test(a.title));
      assert.ok(established?.isPreferred, first.fixes.map((a) => a.title).join(' / '));
      const step1 = first.apply(established);
      assert.deepEqual(findings(step1, c.lang).filter((f) => f.code === 'syntax'), [], step1);
      assertLoads(t, step1, c.lang, established.title);
      // What is left is the way in for administration (ssh), which the next fix opens.
      const left = findings(step1, c.lang).filter((f) => f.code === 'lockout');
      assert.deepEqual(left.map((f) => f.data?.kind), ['admin'], step1);

      const second = await open(step1, c.lang, 'lockout');
      const admin = second.fixes.find((a) => /tcp\/22 from 198\.51\.100\.0\/24/.test(a.title));
      assert.ok(admin, second.fixes.map((a) => a.title).join(' / '));
      const step2 = second.apply(admin);
      const after2 = findings(step2, c.lang);
      assert.deepEqual(after2.filter((f) => f.code === 'lockout' || f.code === 'syntax' || f.code === 'open-to-world'), [], step2);
      assertLoads(t, step2, c.lang, admin.title);
      // Only lines were added: every line of the original is still there, in order.
      const kept = c.text.split('\n');
      const now = step2.split('\n');
      let i = 0;
      for (const l of now) if (l === kept[i]) i++;
      assert.equal(i, kept.length, `the original lines, in order, in\n${step2}`);
    });
  }
});

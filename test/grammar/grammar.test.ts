// The TextMate grammars and language contributions: the syntax tests of test/grammar/*.test.*
// (vscode-tmgrammar-test, the same TextMate engine and Oniguruma as VS Code), every example and
// corpus file tokenised without an invalid scope, and the file associations (names, firstLine)
// recognising what they should and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require_ = createRequire(join(ROOT, 'package.json'));
const GRAMMARS = {
  iptables: { scope: 'source.iptables', file: join(ROOT, 'syntaxes/iptables.tmLanguage.json') },
  nftables: { scope: 'source.nftables', file: join(ROOT, 'syntaxes/nftables.tmLanguage.json') },
} as const;

interface Contributes {
  languages: { id: string; aliases?: string[]; extensions?: string[]; filenames?: string[]; filenamePatterns?: string[]; firstLine?: string; configuration?: string }[];
  grammars: { language: string; scopeName: string; path: string }[];
}
interface Manifest {
  contributes?: Contributes & {
    commands?: { command: string; title: string }[];
    configuration?: { properties: Record<string, { type: string; enum?: string[] }> };
  };
  capabilities?: { untrustedWorkspaces?: { supported: boolean | string } };
}
// package.json is the truth once client/package.contributes.json has been merged into it.
const fragment = JSON.parse(readFileSync(join(ROOT, 'client/package.contributes.json'), 'utf8')) as Manifest;
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const merged = manifest.contributes?.languages ? manifest : fragment;
const contributes = merged.contributes!;
const language = (id: string) => contributes.languages.find((l) => l.id === id)!;

test('vscode-tmgrammar-test: test/grammar/*.test.iptables and *.test.nft pass', () => {
  const pkgPath = require_.resolve('vscode-tmgrammar-test/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin: Record<string, string> };
  const bin = join(dirname(pkgPath), pkg.bin['vscode-tmgrammar-test']);
  const cases = readdirSync(join(ROOT, 'test/grammar')).filter((f) => /\.test\.(iptables|nft)$/.test(f));
  assert.ok(cases.length >= 2, 'the grammar test cases are missing');
  const r = spawnSync(process.execPath, [
    bin, '--compact',
    '-g', GRAMMARS.iptables.file,
    '-g', GRAMMARS.nftables.file,
    ...cases.map((f) => join('test/grammar', f)),
  ], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `vscode-tmgrammar-test failed:\n${r.stdout}\n${r.stderr}`);
});

interface Token { startIndex: number; endIndex: number; scopes: string[] }
interface Grammar { tokenizeLine(line: string, stack: unknown): { tokens: Token[]; ruleStack: unknown } }

/** Both grammars in vscode-textmate with Oniguruma: the libraries vscode-tmgrammar-test (and VS Code) use. */
async function loadGrammars(): Promise<{ initial: unknown; load: (scope: string) => Promise<Grammar | null> }> {
  const req = createRequire(require_.resolve('vscode-tmgrammar-test/package.json'));
  const tm = req('vscode-textmate');
  const onig = req('vscode-oniguruma');
  const wasm = readFileSync(req.resolve('vscode-oniguruma/release/onig.wasm'));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const files: Record<string, string> = Object.fromEntries(Object.values(GRAMMARS).map((g) => [g.scope, g.file]));
  const reg = new tm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (s: string[]) => new onig.OnigScanner(s), createOnigString: (s: string) => new onig.OnigString(s) }),
    loadGrammar: async (scope: string) => (files[scope] ? tm.parseRawGrammar(readFileSync(files[scope], 'utf8'), files[scope]) : null),
  });
  return { initial: tm.INITIAL, load: (scope) => reg.loadGrammar(scope) };
}

function samples(kind: 'iptables' | 'nftables'): string[] {
  const dirs = [join(ROOT, 'examples'), join(ROOT, '..', 'shared', 'corpus', kind)];
  const out: string[] = [];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const isNft = /\.(nft|conf)$/.test(f);
      const isIpt = /(\.rules|rules\.v[46])$/.test(f);
      if ((kind === 'nftables' && isNft) || (kind === 'iptables' && isIpt)) out.push(join(d, f));
    }
  }
  return out;
}

test('every example and corpus file tokenises with no invalid scope, rules and verdicts scoped', async () => {
  const { initial, load } = await loadGrammars();
  for (const kind of ['iptables', 'nftables'] as const) {
    const grammar = await load(GRAMMARS[kind].scope);
    if (!grammar) throw new Error(`${kind} grammar did not load`);
    const files = samples(kind);
    assert.ok(files.length > 0, `no ${kind} samples found`);
    for (const file of files) {
      let stack = initial;
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        const r = grammar.tokenizeLine(line, stack);
        stack = r.ruleStack;
        const where = `${file}:${i + 1}: ${line}`;
        const scopesAt = (col: number) => r.tokens.find((t) => t.startIndex <= col && col < t.endIndex)?.scopes ?? [];
        for (const t of r.tokens) assert.ok(!t.scopes.some((s) => s.startsWith('invalid')), `invalid scope ${t.scopes.join(' ')} at ${where}`);
        if (kind === 'iptables') {
          const cmd = /^\s*(-A|--append)\b/.exec(line);
          if (cmd) assert.ok(scopesAt(line.indexOf(cmd[1])).includes('keyword.control.command.iptables'), `-A not scoped at ${where}`);
          const jump = /\s(?:-j|--jump)\s+(ACCEPT|DROP|REJECT|RETURN)\b/.exec(line);
          if (jump) assert.ok(scopesAt(line.indexOf(jump[1], jump.index)).includes('constant.language.verdict.iptables'), `verdict not scoped at ${where}`);
        } else {
          const code = line.replace(/#.*$/, '').replace(/"[^"]*"/g, (s) => ' '.repeat(s.length));
          for (const m of code.matchAll(/(?<![\w-])(accept|drop|reject)(?![\w-])/g)) {
            const s = scopesAt(m.index!);
            assert.ok(s.includes('keyword.control.verdict.nftables') || s.includes('constant.language.policy.nftables'), `'${m[1]}' not scoped as a verdict at ${where}: ${s.join(' ')}`);
          }
        }
      });
    }
  }
});

test('grammars: scope names match the contributions, language configurations are valid', () => {
  for (const g of contributes.grammars) {
    const file = join(ROOT, g.path);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { scopeName: string };
    assert.equal(json.scopeName, g.scopeName, g.path);
    assert.ok(contributes.languages.some((l) => l.id === g.language), `grammar for unknown language ${g.language}`);
  }
  for (const l of contributes.languages) {
    assert.ok(l.configuration, `${l.id} has no language configuration`);
    const conf = JSON.parse(readFileSync(join(ROOT, l.configuration!), 'utf8')) as {
      comments: { lineComment: string }; brackets: [string, string][]; autoClosingPairs: { open: string }[]; folding?: { markers?: { start: string; end: string } }; wordPattern?: string;
    };
    assert.equal(conf.comments.lineComment, '#');
    assert.ok(conf.brackets.some(([o, c]) => o === '{' && c === '}'));
    assert.ok(conf.autoClosingPairs.some((p) => p.open === '"'), 'quotes auto-close');
    if (conf.wordPattern) new RegExp(conf.wordPattern);
    if (l.id === 'iptables') {
      const m = conf.folding!.markers!;
      assert.match('*filter', new RegExp(m.start));
      assert.match('COMMIT', new RegExp(m.end));
      assert.doesNotMatch('-A INPUT -j ACCEPT', new RegExp(m.start));
    }
  }
});

test('file associations claim firewall files and leave other tools\' files alone', () => {
  const ipt = language('iptables');
  const nft = language('nftables');
  for (const name of ['rules.v4', 'rules.v6', 'iptables.rules', 'ip6tables.rules', 'user.rules', 'user6.rules', 'before.rules', 'after.rules', 'before6.rules', 'after6.rules']) {
    assert.ok(ipt.filenames?.includes(name), `iptables should claim ${name}`);
  }
  assert.deepEqual(ipt.extensions, ['.iptables']);
  assert.ok(nft.extensions?.includes('.nft'));
  assert.ok(nft.filenames?.includes('nftables.conf'));
  assert.ok(nft.filenamePatterns?.includes('**/nftables/*.conf'));
  // Not ours: udev, audit, snort and suricata use *.rules; everything uses *.conf.
  for (const l of contributes.languages) {
    for (const e of l.extensions ?? []) assert.ok(!['.rules', '.conf', '.txt'].includes(e), `${l.id} must not claim ${e}`);
    for (const p of l.filenamePatterns ?? []) assert.ok(!/^\*\*\/\*\.(rules|conf)$/.test(p) && p !== '*.rules' && p !== '*.conf', `${l.id} must not claim ${p}`);
  }

  const iptFirst = new RegExp(ipt.firstLine!);
  for (const yes of ['# Generated by iptables-save v1.8.7 on Mon Oct 18 13:29:34 2021', '# Generated by ip6tables-save v1.8.9 (nf_tables) on Tue', '# Generated by iptables-nft-save v1.8.9', '# Generated by iptables-legacy-save v1.8.9', '*filter', '*nat', '*mangle', '*raw', '*security']) {
    assert.match(yes, iptFirst);
  }
  for (const no of ['# udev rules for USB devices', 'SUBSYSTEM=="usb", MODE="0666"', '*filterx', 'alert tcp any any -> any 80 (msg:"x";)', '-w /etc/passwd -p wa -k identity', '#!/usr/sbin/nft -f', '# Generated by nft']) {
    assert.doesNotMatch(no, iptFirst);
  }
  const nftFirst = new RegExp(nft.firstLine!);
  for (const yes of ['#!/usr/sbin/nft -f', '#!/sbin/nft -f', '#!/usr/bin/env -S nft -f']) assert.match(yes, nftFirst);
  for (const no of ['#!/bin/sh', '#!/usr/bin/env python3', '#!/usr/local/bin/nftables-helper', '# nft is used below', '*filter']) assert.doesNotMatch(no, nftFirst);
});

test('the manifest: command, settings, untrusted workspaces', (t) => {
  if (!manifest.contributes?.languages) t.diagnostic('package.json has no contributes yet (merge client/package.contributes.json): checking the fragment');
  assert.ok(merged.contributes!.commands?.some((c) => c.command === 'firewallLens.checkPacket' && /Check a packet/.test(c.title)));
  const props = merged.contributes!.configuration!.properties;
  for (const key of ['firewallLens.disabledCodes', 'firewallLens.severityOverrides', 'firewallLens.sensitivePorts', 'firewallLens.trustedSources', 'firewallLens.trace.server']) {
    assert.ok(props[key], `setting ${key} is missing`);
  }
  assert.deepEqual(props['firewallLens.trace.server'].enum, ['off', 'messages', 'verbose']);
  assert.equal(merged.capabilities?.untrustedWorkspaces?.supported, true);
});

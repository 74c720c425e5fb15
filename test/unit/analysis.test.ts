// The analysis on small iptables rulesets whose verdicts follow from iptables' semantics by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeDocument, DocumentAnalysis } from '../../server/src/features/document';
import { queryPacket, explainCidr } from '../../server/src/features/query';
import type { PacketSpec } from '../../server/src/analysis/packet-spec';
import { explainSet, reachingSet } from '../../server/src/analysis/explain';
import { walkEntry } from '../../server/src/analysis/walk';

function load(text: string): DocumentAnalysis {
  const d = analyzeDocument(text, { language: 'iptables' });
  if ('error' in d) throw new Error(d.error);
  return d;
}

function ruleset(...rules: string[]): string {
  const chains = new Set<string>();
  for (const r of rules) {
    const m = /^:(\S+)/.exec(r);
    if (m) chains.add(m[1]);
  }
  const head = ['*filter'];
  if (!chains.has('INPUT')) head.push(':INPUT ACCEPT [0:0]');
  head.push(':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]');
  return [...head, ...rules, 'COMMIT', ''].join('\n');
}

/** 0-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `no line contains ${needle}`);
  return i;
}

function codes(d: DocumentAnalysis, code: string): number[] {
  return d.findings.filter((f) => f.code === code).map((f) => f.range.start.line);
}

function verdict(d: DocumentAnalysis, spec: PacketSpec, chain?: string): { verdict: string; line: number | null } {
  const a = queryPacket(d, spec, chain);
  if ('error' in a) throw new Error(a.error);
  return { verdict: a.verdict, line: a.rule ? a.range.start.line : null };
}

test('the outage: an unrestricted DROP before the allow rules is a catch-all-drop error naming what it hides', () => {
  const text = readFileSync(join(__dirname, '../../examples/outage.rules'), 'utf8');
  const d = load(text);
  const drop = lineOf(text, '-A INPUT -s 0.0.0.0/0');
  const catchAll = d.findings.filter((f) => f.code === 'catch-all-drop');
  assert.equal(catchAll.length, 1);
  assert.equal(catchAll[0].range.start.line, drop);
  assert.equal(catchAll[0].severity, 'error');
  const hidden = (catchAll[0].related ?? []).map((r) => r.range.start.line);
  for (const needle of ['--ctstate RELATED,ESTABLISHED', '--dport 22', '--dports 80,443', '--dport 5432', '--icmp-type 8']) {
    assert.ok(hidden.includes(lineOf(text, needle)), `related info names ${needle}`);
  }
  // Everything after it is unreachable; the final DROP agrees with it, so it is only redundant.
  assert.ok(codes(d, 'shadowed-rule').includes(lineOf(text, '--dport 22')));
  assert.deepEqual(codes(d, 'redundant-rule'), [lineOf(text, '-A INPUT -j DROP')]);
  const ssh = d.findings.find((f) => f.code === 'shadowed-rule' && f.range.start.line === lineOf(text, '--dport 22'))!;
  assert.deepEqual(ssh.related?.map((r) => r.range.start.line), [drop]);
  // And the ssh session that loads it is cut.
  assert.equal(codes(d, 'lockout').length, 1);
});

test('the ordinary default deny after the allow rules is no finding at all', () => {
  const d = load(ruleset(
    '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    '-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT',
    '-A INPUT -j DROP',
  ));
  assert.deepEqual(d.findings.map((f) => f.code), []);
});

test('the good server example has no warnings or errors', () => {
  const text = readFileSync(join(__dirname, '../../examples/good-server.rules'), 'utf8');
  const d = load(text);
  assert.deepEqual(d.findings.filter((f) => f.severity === 'error' || f.severity === 'warning').map((f) => `${f.code} ${f.range.start.line}`), []);
});

test('a drop with no allow rule before it in a built-in chain leaves no way in', () => {
  const text = ruleset('-A INPUT -j DROP');
  const d = load(text);
  assert.deepEqual(codes(d, 'catch-all-drop'), [lineOf(text, '-j DROP')]);
});

test('a catch-all made total only by earlier rules is still a catch-all', () => {
  const text = ruleset(
    '-A INPUT -p tcp -j ACCEPT',
    '-A INPUT ! -p tcp -j DROP',
    '-A INPUT -p udp --dport 53 -j ACCEPT',
  );
  const d = load(text);
  assert.deepEqual(codes(d, 'catch-all-drop'), [lineOf(text, '! -p tcp')]);
  assert.deepEqual(codes(d, 'shadowed-rule'), [lineOf(text, '--dport 53')]);
});

test('shadowed versus redundant: a different verdict is shadowed, the same verdict redundant', () => {
  const text = ruleset(
    '-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT',
    '-A INPUT -s 10.1.0.0/16 -p tcp --dport 22 -j DROP',
    '-A INPUT -s 10.2.0.0/16 -p tcp --dport 22 -j ACCEPT',
    '-A INPUT -s 10.3.0.0/16 -p tcp --dport 23 -j DROP',
  );
  const d = load(text);
  assert.deepEqual(codes(d, 'shadowed-rule'), [lineOf(text, '10.1.0.0/16')]);
  assert.deepEqual(codes(d, 'redundant-rule'), [lineOf(text, '10.2.0.0/16')]);
  const shadow = d.findings.find((f) => f.code === 'shadowed-rule')!;
  assert.deepEqual(shadow.related?.map((r) => r.range.start.line), [lineOf(text, '10.0.0.0/8')]);
});

test('a rule covered only by the union of several earlier rules is shadowed', () => {
  const text = ruleset(
    '-A INPUT -s 10.0.0.0/9 -j ACCEPT',
    '-A INPUT -s 10.128.0.0/9 -j ACCEPT',
    '-A INPUT -s 10.0.0.0/8 -j DROP',
  );
  const d = load(text);
  assert.deepEqual(codes(d, 'shadowed-rule'), [lineOf(text, '10.0.0.0/8')]);
});

test('soundness: a rule behind a condition we cannot see is never shadowed by it', () => {
  const text = ruleset(
    '-A INPUT -p tcp --dport 22 -m recent --name ssh --rcheck --seconds 60 -j DROP',
    '-A INPUT -p tcp --dport 22 -m limit --limit 5/min -j ACCEPT',
    '-A INPUT -p tcp --dport 22 -j ACCEPT',
    '-A INPUT -m set --match-set blocklist src -j DROP',
    '-A INPUT -p tcp --dport 80 -j ACCEPT',
  );
  const d = load(text);
  assert.deepEqual(codes(d, 'shadowed-rule'), []);
  assert.deepEqual(codes(d, 'redundant-rule'), []);
  assert.deepEqual(codes(d, 'catch-all-drop'), []);
});

test('negation: ! -s limits the drop to everyone else', () => {
  const text = ruleset(
    '-A INPUT ! -s 192.168.0.0/16 -p tcp --dport 22 -j DROP',
    '-A INPUT -p tcp --dport 22 -j ACCEPT',
    '-A INPUT -s 192.168.1.0/24 -p tcp --dport 22 -j DROP',
  );
  const d = load(text);
  assert.deepEqual(codes(d, 'shadowed-rule'), [lineOf(text, '192.168.1.0/24')]);
  assert.equal(verdict(d, { src: '10.0.0.1', dst: '10.9.9.9', proto: 'tcp', dport: 22 }).verdict, 'drop');
  assert.equal(verdict(d, { src: '192.168.7.1', dst: '10.9.9.9', proto: 'tcp', dport: 22 }).line, lineOf(text, '-p tcp --dport 22 -j ACCEPT'));
});

test('open-to-world: ssh from anywhere is flagged, ssh from a range or established traffic is not', () => {
  const text = ruleset(
    '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    '-A INPUT -i lo -j ACCEPT',
    '-A INPUT -s 10.0.0.0/8 -p tcp --dport 3306 -j ACCEPT',
    '-A INPUT -p tcp --dport 22 -j ACCEPT',
    '-A INPUT -p tcp --dport 443 -j ACCEPT',
    '-A INPUT -s 0.0.0.0/0 -j ACCEPT',
  );
  const d = load(text);
  assert.deepEqual(codes(d, 'open-to-world'), [lineOf(text, '--dport 22'), lineOf(text, '-s 0.0.0.0/0')]);
});

test('lockout: default drop with no established accept is a warning on the policy', () => {
  const text = ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', '-A INPUT -p tcp --dport 80 -j ACCEPT', 'COMMIT', ''].join('\n');
  const d = load(text);
  assert.deepEqual(codes(d, 'lockout'), [1]);
});

test('lockout points at the first reachable rule that drops everything, past rules that take only some corners of the universe', () => {
  const text = ruleset(
    '-A INPUT -p tcp --dport 80 -j ACCEPT',
    '-A INPUT -m conntrack --ctstate INVALID -j DROP',
    '-A INPUT -i lo -j DROP',
    '-A INPUT -m recent --rcheck -j DROP',
    '-A INPUT -j REJECT',
    '-A INPUT -j DROP',
  );
  assert.deepEqual(codes(load(text), 'lockout'), [lineOf(text, '-j REJECT')]);
  // A deny-all that nothing reaches is not where the default is.
  const shadowed = ruleset('-A INPUT -p tcp --dport 80 -j ACCEPT', '-A INPUT -j ACCEPT', '-A INPUT -j DROP');
  assert.deepEqual(codes(load(shadowed), 'lockout'), []);
});

test('query: jumps return, gotos do not, RETURN falls back to the caller, the policy decides the rest', () => {
  const text = [
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':WEB - [0:0]',
    ':ADMIN - [0:0]',
    '-A INPUT -p tcp -j WEB',
    '-A INPUT -s 10.0.0.0/8 -g ADMIN',
    '-A INPUT -p udp -j ACCEPT',
    '-A WEB -p tcp --dport 80 -j ACCEPT',
    '-A WEB -s 192.0.2.0/24 -j RETURN',
    '-A WEB -p tcp --dport 8080 -j REJECT',
    '-A ADMIN -p tcp --dport 22 -j ACCEPT',
    'COMMIT',
    '',
  ].join('\n');
  const d = load(text);
  const pkt = (src: string, proto: string, dport?: number) => verdict(d, { src, dst: '198.51.100.1', proto, dport });
  assert.deepEqual(pkt('203.0.113.5', 'tcp', 80), { verdict: 'accept', line: 9 });
  assert.deepEqual(pkt('203.0.113.5', 'tcp', 8080), { verdict: 'reject', line: 11 });
  // RETURN from WEB goes on in INPUT: not 10/8, not udp, so the INPUT policy drops it.
  assert.deepEqual(pkt('192.0.2.9', 'tcp', 8080), { verdict: 'drop', line: null });
  // Goto ADMIN, no match there: a goto returns to INPUT's caller, so the policy decides.
  assert.deepEqual(pkt('10.1.1.1', 'udp', 53), { verdict: 'drop', line: null });
  assert.deepEqual(pkt('10.1.1.1', 'tcp', 22), { verdict: 'accept', line: 12 });
  assert.deepEqual(pkt('203.0.113.5', 'udp', 53), { verdict: 'accept', line: 8 });
});

test('query: interfaces with + wildcards, states, icmp types, multiport and iprange', () => {
  const text = ruleset(
    '-A INPUT -i eth+ -p tcp -m multiport --dports 80,443,8000:8100 -j ACCEPT',
    '-A INPUT -m state --state ESTABLISHED -j ACCEPT',
    '-A INPUT -p icmp --icmp-type echo-request -j ACCEPT',
    '-A INPUT -m iprange --src-range 10.0.0.5-10.0.0.9 -j ACCEPT',
    '-A INPUT -j DROP',
  );
  const d = load(text);
  const q = (spec: Partial<PacketSpec>) => verdict(d, { src: '192.0.2.1', dst: '198.51.100.1', ...spec }).verdict;
  assert.equal(q({ proto: 'tcp', dport: 8050, in: 'eth1' }), 'accept');
  assert.equal(q({ proto: 'tcp', dport: 8050, in: 'wlan0' }), 'drop');
  assert.equal(q({ proto: 'tcp', dport: 8050 }), 'drop');
  assert.equal(q({ proto: 'tcp', dport: 5, state: 'ESTABLISHED' }), 'accept');
  assert.equal(q({ proto: 'icmp', icmpType: 'echo-request' }), 'accept');
  assert.equal(q({ proto: 'icmp', icmpType: '0' }), 'drop');
  assert.equal(q({ src: '10.0.0.7', proto: 'udp', dport: 1 }), 'accept');
  assert.equal(q({ src: '10.0.0.10', proto: 'udp', dport: 1 }), 'drop');
});

test('query refuses a tcp packet without a destination port', () => {
  const d = load(ruleset('-A INPUT -j ACCEPT'));
  const a = queryPacket(d, { src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp' });
  assert.ok('error' in a && /--dport/.test(a.error));
});

test('explain splits a range into the parts each rule decides', () => {
  const text = ruleset(
    '-A INPUT -s 10.1.0.0/16 -j DROP',
    '-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT',
    '-A INPUT -s 10.0.0.0/8 -j REJECT',
  );
  const d = load(text);
  const e = explainCidr(d, '10.0.0.0/8', 'src');
  assert.ok(!('error' in e));
  if ('error' in e) return;
  assert.deepEqual(e.parts.map((p) => [p.verdict, p.line]), [['drop', 5], ['accept', 6], ['reject', 7]]);
  assert.match(e.parts[0].traffic, /10\.1\.0\.0\/16/);
  assert.match(e.parts[1].traffic, /10\.0\.0\.0\/8.*except.*10\.1\.0\.0\/16|except/);
  assert.equal(e.size, String(2 ** 24));
});

test('-I N counts kernel rules: a line with two sources is two rules, and an insert can fall between them', () => {
  // Verdicts as the kernel gives them (checked in a network namespace by the kernel suite).
  const text = [
    '*filter', ':INPUT DROP [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]',
    '-A INPUT -s 198.51.100.1,198.51.100.2 -p tcp --dport 22 -j REJECT',
    '-I INPUT 2 -p tcp --dport 22 -j ACCEPT',
    '-A INPUT -s 198.51.100.1,198.51.100.2 -p tcp --dport 80 -j REJECT',
    '-I INPUT 6 -p tcp --dport 80 -j ACCEPT',
    'COMMIT', '',
  ].join('\n');
  const d = load(text);
  assert.deepEqual(d.findings.filter((f) => f.severity === 'error').map((f) => f.message), []);
  const q = (src: string, dport: number) => verdict(d, { src, dst: '10.0.0.1', proto: 'tcp', dport });
  assert.deepEqual(q('198.51.100.1', 22), { verdict: 'reject', line: 4 });
  assert.deepEqual(q('198.51.100.2', 22), { verdict: 'accept', line: 5 });
  assert.deepEqual(q('198.51.100.3', 80), { verdict: 'accept', line: 7 });
  // Line 5 is reached by 198.51.100.1: no shadowed finding on it, though its other half is.
  assert.deepEqual(codes(d, 'shadowed-rule'), []);
});

test('reachingSet sees what arrives at a rule of any kind; a past deadline makes a walk incomplete', () => {
  const text = ruleset(
    ':LOGDROP - [0:0]',
    '-A INPUT -s 10.0.0.0/8 -j ACCEPT',
    '-A INPUT -p tcp -j LOGDROP',
    '-A LOGDROP -j LOG',
    '-A LOGDROP -j DROP',
  );
  const d = load(text);
  const { compiled, resolve } = d.analysis;
  const entry = d.policy.entries.find((e) => e.name === 'INPUT')!;
  const jump = d.policy.tables[0].chains.get('INPUT')!.rules[1];
  const r = reachingSet(compiled, resolve, entry, jump);
  assert.equal(r.complete, true);
  // tcp from outside 10/8 reaches the jump; tcp from 10/8 was accepted before it.
  const space = compiled.space;
  const pkt = (src: bigint) => ({ family: 4 as const, src, dst: 1n, proto: 6, sport: 40000, dport: 80, icmp: 0, iif: '', oif: '', state: 'NEW' as const });
  assert.ok(space.contains(r.set, pkt(0xc0000201n)));
  assert.ok(!space.contains(r.set, pkt(0x0a000001n)));
  const log = d.policy.tables[0].chains.get('LOGDROP')!.rules[0];
  assert.ok(space.contains(reachingSet(compiled, resolve, entry, log).set, pkt(0xc0000201n)));
  const late = explainSet(compiled, resolve, entry, space.all(), undefined, { deadline: performance.now() - 1 });
  assert.equal(late.complete, false);
});

test('nftables: a policy drop with no established,related accept is a lockout; a drop-all base chain that runs first is a catch-all', () => {
  const nft = (text: string) => {
    const d = analyzeDocument(text, { language: 'nftables' });
    if ('error' in d) throw new Error(d.error);
    return d;
  };
  const noEstablished = 'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 22 accept\n  }\n}\n';
  assert.deepEqual(codes(nft(noEstablished), 'lockout'), [2]);
  const fixed = noEstablished.replace('    tcp dport 22', '    ct state established,related accept\n    tcp dport 22');
  assert.deepEqual(codes(nft(fixed), 'lockout'), []);
  const early = 'table inet filter {\n  chain early {\n    type filter hook input priority -10; policy accept;\n    drop\n  }\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    tcp dport 22 accept\n  }\n}\n';
  assert.deepEqual(codes(nft(early), 'catch-all-drop'), [3]);
  // The same drop-all in a chain that runs after the accepting one still lets nothing in.
  const late = early.replace('priority -10', 'priority 10');
  assert.deepEqual(codes(nft(late), 'catch-all-drop'), [3]);
});

test('a walk stops when it has spent its work budget, and says it is incomplete', () => {
  const text = readFileSync(join(__dirname, '../../examples/good-server.rules'), 'utf8');
  const d = load(text);
  const { compiled, resolve } = d.analysis;
  const entry = d.policy.entries.find((e) => e.name === 'INPUT')!;
  assert.equal(walkEntry(compiled, resolve, entry, compiled.space.all()).complete, true);
  const cut = walkEntry(compiled, resolve, entry, compiled.space.all(), { maxWork: 5 });
  assert.equal(cut.complete, false);
});

// Lowering into the model: conditions with exact value ranges, actions, chains, entries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition, Policy, Rule } from '../../server/src/model/policy';
import { loadIptables } from '../../server/src/syntax/iptables/lower';

const file = (...lines: string[]): string => `${lines.join('\n')}\n`;
const filter = (...rules: string[]): string => file('*filter', ':INPUT DROP [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':USER - [0:0]', ...rules, 'COMMIT');

function policy(text: string, family?: 4 | 6): Policy {
  const r = loadIptables(text, family);
  assert.deepEqual(r.findings.filter((f) => f.severity === 'error').map((f) => f.message), []);
  return r.policy;
}
function rule(text: string, family?: 4 | 6, chain = 'INPUT'): Rule {
  return policy(text, family).tables[0].chains.get(chain)?.rules[0] as Rule;
}
/** Conditions without their ranges, for comparing meaning. */
function conds(text: string, family?: 4 | 6): unknown[] {
  return rule(text, family).conditions.map(strip);
}
function strip(c: Condition): unknown {
  const { range: _r, ...rest } = c;
  if (rest.field === 'any') return { ...rest, alternatives: rest.alternatives.map((a) => a.map(strip)) };
  return rest;
}
const v4 = (a: string, b: string) => ({ family: 4, first: BigInt(a), last: BigInt(b) });
const ip = (s: string): string => String(s.split('.').reduce((n, x) => n * 256 + Number(x), 0));
const r1 = (line: number, from: number, to: number) => ({ start: { line, character: from }, end: { line, character: to } });

test('policy shape: format, family, tables, entries of the filter table', () => {
  const p = policy(filter('-A INPUT -j ACCEPT'));
  assert.equal(p.format, 'iptables');
  assert.deepEqual(p.families, [4]);
  assert.equal(p.defaultEntry, 'INPUT');
  assert.deepEqual(p.entries.map((e) => [e.name, e.families, e.stages.map((c) => c.name)]), [
    ['INPUT', [4], ['INPUT']], ['FORWARD', [4], ['FORWARD']], ['OUTPUT', [4], ['OUTPUT']],
  ]);
  const t = p.tables[0];
  assert.deepEqual([t.name, t.family], ['filter', 'ip']);
  const input = t.chains.get('INPUT');
  assert.equal(input?.policy, 'drop');
  assert.deepEqual(input?.policyRange, r1(1, 7, 11));
  assert.deepEqual(input?.range, r1(1, 1, 6));
  const user = t.chains.get('USER');
  assert.equal(user?.policy, undefined);
  assert.equal(user?.policyRange, undefined);
  assert.deepEqual(user?.range, r1(4, 1, 5));
  assert.equal(p.entries[0].stages[0], input);
});

test('built-in chains never declared exist with an ACCEPT policy (iptables-nft creates them so)', () => {
  const p = policy(file('*filter', '-A INPUT -j DROP', 'COMMIT'));
  const out = p.tables[0].chains.get('OUTPUT');
  assert.equal(out?.policy, 'accept');
  assert.equal(out?.policyRange, undefined);
  assert.deepEqual(out?.range, r1(0, 1, 7));
  assert.equal(p.entries.length, 3);
});

test('a rule: its range is the whole line, its text, comment, index, chain and table', () => {
  const r = rule(filter('[3:120] -A INPUT -p tcp --dport 22 -m comment --comment "ssh in" -j ACCEPT'));
  assert.deepEqual(r.range, r1(5, 0, 74));
  assert.equal(r.text, '[3:120] -A INPUT -p tcp --dport 22 -m comment --comment "ssh in" -j ACCEPT');
  assert.equal(r.comment, 'ssh in');
  assert.deepEqual([r.index, r.chain, r.table], [0, 'INPUT', 'filter']);
  assert.deepEqual(r.action, { kind: 'verdict', verdict: 'accept', range: r1(5, 68, 74) });
});

test('source and destination: address ranges, negation, lists, exact ranges of the value word', () => {
  const r = rule(filter('-A INPUT ! -s 10.0.0.0/8 -d 192.168.1.7 -j DROP'));
  assert.deepEqual(r.conditions, [
    { field: 'src', negate: true, addrs: [v4(ip('10.0.0.0'), ip('10.255.255.255'))], range: r1(5, 14, 24) },
    { field: 'dst', negate: false, addrs: [v4(ip('192.168.1.7'), ip('192.168.1.7'))], range: r1(5, 28, 39) },
  ]);
  assert.deepEqual(conds(filter('-A INPUT -s 10.0.0.1,172.16.0.0/12 -j DROP')), [
    { field: 'src', negate: false, addrs: [v4(ip('10.0.0.1'), ip('10.0.0.1')), v4(ip('172.16.0.0'), ip('172.31.255.255'))] },
  ]);
  assert.deepEqual(conds(filter('-A INPUT -s 0.0.0.0/0 -j DROP')), [{ field: 'src', negate: false, addrs: [v4('0', '4294967295')] }]);
});

test('host bits: the model uses the network, as iptables does', () => {
  const r = loadIptables(filter('-A INPUT -s 10.0.0.1/24 -j ACCEPT'));
  assert.deepEqual(r.findings.map((f) => [f.code, f.data]), [['cidr-host-bits', { network: '10.0.0.0/24' }]]);
  assert.deepEqual(r.policy.tables[0].chains.get('INPUT')?.rules[0].conditions.map(strip), [
    { field: 'src', negate: false, addrs: [v4(ip('10.0.0.0'), ip('10.0.0.255'))] },
  ]);
});

test('IPv6 addresses', () => {
  const p = policy(filter('-A INPUT -s 2001:db8::/32 ! -d ::1 -j ACCEPT'), 6);
  assert.deepEqual(p.families, [6]);
  assert.equal(p.tables[0].family, 'ip6');
  assert.deepEqual(p.entries[0].families, [6]);
  assert.deepEqual(p.tables[0].chains.get('INPUT')?.rules[0].conditions.map(strip), [
    { field: 'src', negate: false, addrs: [{ family: 6, first: 0x20010db8n << 96n, last: (0x20010db8n << 96n) | ((1n << 96n) - 1n) }] },
    { field: 'dst', negate: true, addrs: [{ family: 6, first: 1n, last: 1n }] },
  ]);
});

test('protocol: numbers; all means no condition; negation', () => {
  assert.deepEqual(conds(filter('-A INPUT -p tcp -j ACCEPT')), [{ field: 'proto', negate: false, protos: [6] }]);
  assert.deepEqual(conds(filter('-A INPUT ! -p udp -j ACCEPT')), [{ field: 'proto', negate: true, protos: [17] }]);
  assert.deepEqual(conds(filter('-A INPUT -p 47 -j ACCEPT')), [{ field: 'proto', negate: false, protos: [47] }]);
  assert.deepEqual(conds(filter('-A INPUT -p all -j ACCEPT')), []);
  assert.deepEqual(conds(filter('-A INPUT -p 0 -j ACCEPT')), []);
  assert.deepEqual(rule(filter('-A INPUT -p tcp -j ACCEPT')).conditions[0].range, r1(5, 12, 15));
});

test('ports: single, ranges, open ranges, services, negation', () => {
  assert.deepEqual(conds(filter('-A INPUT -p tcp --dport 22 --sport 1024: -j ACCEPT')), [
    { field: 'proto', negate: false, protos: [6] },
    { field: 'dport', negate: false, ports: [{ lo: 22, hi: 22 }] },
    { field: 'sport', negate: false, ports: [{ lo: 1024, hi: 65535 }] },
  ]);
  assert.deepEqual(conds(filter('-A INPUT -p udp ! --dport :1023 -j ACCEPT'))[1], { field: 'dport', negate: true, ports: [{ lo: 0, hi: 1023 }] });
  assert.deepEqual(conds(filter('-A INPUT -p tcp -m tcp --destination-port http:https -j ACCEPT'))[1], { field: 'dport', negate: false, ports: [{ lo: 80, hi: 443 }] });
  assert.deepEqual(rule(filter('-A INPUT -p tcp --dport 22 -j ACCEPT')).conditions[1].range, r1(5, 24, 26));
  // A reversed udp range never matches: an empty port set.
  assert.deepEqual(conds(filter('-A INPUT -p udp --dport 5:3 -j ACCEPT'))[1], { field: 'dport', negate: false, ports: [] });
});

test('multiport: dports and sports lists; --ports is sport OR dport', () => {
  assert.deepEqual(conds(filter('-A INPUT -p tcp -m multiport --dports 22,80,8000:8080 -j ACCEPT'))[1], {
    field: 'dport', negate: false, ports: [{ lo: 22, hi: 22 }, { lo: 80, hi: 80 }, { lo: 8000, hi: 8080 }],
  });
  assert.deepEqual(conds(filter('-A INPUT -p udp -m multiport ! --sports 53,123 -j ACCEPT'))[1], {
    field: 'sport', negate: true, ports: [{ lo: 53, hi: 53 }, { lo: 123, hi: 123 }],
  });
  const ports = [{ lo: 25, hi: 25 }, { lo: 587, hi: 587 }];
  assert.deepEqual(conds(filter('-A INPUT -p tcp -m multiport --ports 25,587 -j ACCEPT'))[1], {
    field: 'any', negate: false,
    alternatives: [[{ field: 'sport', negate: false, ports }], [{ field: 'dport', negate: false, ports }]],
  });
});

test('ICMP: type*256+code keys; any is no condition, negated any matches nothing', () => {
  assert.deepEqual(conds(filter('-A INPUT -p icmp --icmp-type echo-request -j ACCEPT'))[1], { field: 'icmp', negate: false, keys: [{ lo: 2048, hi: 2303 }] });
  assert.deepEqual(conds(filter('-A INPUT -p icmp ! --icmp-type 3/4 -j ACCEPT'))[1], { field: 'icmp', negate: true, keys: [{ lo: 772, hi: 772 }] });
  assert.deepEqual(conds(filter('-A INPUT -p icmp --icmp-type any -j ACCEPT')), [{ field: 'proto', negate: false, protos: [1] }]);
  assert.deepEqual(conds(filter('-A INPUT -p icmp ! --icmp-type any -j ACCEPT'))[1], { field: 'icmp', negate: false, keys: [] });
  assert.deepEqual(conds(filter('-A INPUT -p icmpv6 --icmpv6-type neighbour-advertisement -j ACCEPT'), 6), [
    { field: 'proto', negate: false, protos: [58] },
    { field: 'icmp', negate: false, keys: [{ lo: 136 * 256, hi: 136 * 256 + 255 }] },
  ]);
});

test('interfaces keep the + wildcard', () => {
  assert.deepEqual(rule(filter('-A USER -i eth+ ! -o ppp0 -j ACCEPT'), 4, 'USER').conditions.map(strip), [
    { field: 'iif', negate: false, names: ['eth+'] },
    { field: 'oif', negate: true, names: ['ppp0'] },
  ]);
});

test('connection state from state and conntrack; SNAT/DNAT are opaque', () => {
  assert.deepEqual(conds(filter('-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT')), [{ field: 'state', negate: false, states: ['RELATED', 'ESTABLISHED'] }]);
  assert.deepEqual(conds(filter('-A INPUT -m conntrack ! --ctstate NEW,UNTRACKED -j ACCEPT')), [{ field: 'state', negate: true, states: ['NEW', 'UNTRACKED'] }]);
  assert.deepEqual(conds(filter('-A INPUT -m conntrack --ctstate e,i -j ACCEPT')), [{ field: 'state', negate: false, states: ['ESTABLISHED', 'INVALID'] }]);
  const mixed = conds(filter('-A INPUT -m conntrack --ctstate NEW,DNAT -j ACCEPT'))[0] as { field: string; alternatives: unknown[][] };
  assert.equal(mixed.field, 'any');
  assert.deepEqual(mixed.alternatives[0], [{ field: 'state', negate: false, states: ['NEW'] }]);
  assert.equal((mixed.alternatives[1][0] as { field: string }).field, 'opaque');
  assert.equal((conds(filter('-A INPUT -m conntrack --ctstate SNAT -j ACCEPT'))[0] as { field: string }).field, 'opaque');
  assert.equal((conds(filter('-A INPUT -m conntrack --ctstatus ASSURED -j ACCEPT'))[0] as { field: string }).field, 'opaque');
});

test('iprange: an address range; reversed, an empty set', () => {
  assert.deepEqual(conds(filter('-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.5 ! --dst-range 10.1.0.0-10.1.255.255 -j ACCEPT')), [
    { field: 'src', negate: false, addrs: [v4(ip('10.0.0.1'), ip('10.0.0.5'))] },
    { field: 'dst', negate: true, addrs: [v4(ip('10.1.0.0'), ip('10.1.255.255'))] },
  ]);
  assert.deepEqual(conds(filter('-A INPUT -m iprange --src-range 10.0.0.9-10.0.0.1 -j ACCEPT')), [{ field: 'src', negate: false, addrs: [] }]);
});

test('what the model cannot see is opaque: TCP flags, fragments, rate limits, marks, sets, names, odd masks', () => {
  const field = (t: string) => rule(t).conditions.map((c) => `${c.field}${c.negate ? '!' : ''}`);
  assert.deepEqual(field(filter('-A INPUT -p tcp --syn -j ACCEPT')), ['proto', 'opaque']);
  assert.deepEqual(field(filter('-A INPUT -p tcp ! --syn -j ACCEPT')), ['proto', 'opaque!']);
  assert.deepEqual(field(filter('-A INPUT -p tcp --tcp-flags ALL NONE -j DROP')), ['proto', 'opaque']);
  assert.deepEqual(field(filter('-A INPUT -f -j DROP')), ['opaque']);
  assert.deepEqual(field(filter('-A INPUT ! -f -j DROP')), ['opaque!']);
  assert.deepEqual(field(filter('-A INPUT -m limit --limit 5/min -j ACCEPT')), ['opaque']);
  assert.deepEqual(field(filter('-A INPUT -m recent --name x --rcheck --seconds 60 -j DROP')), ['opaque']);
  assert.deepEqual(field(filter('-A INPUT -m set --match-set bad src -j DROP')), ['opaque']);
  assert.deepEqual(field(filter('-A INPUT -m mark ! --mark 1 -j DROP')), ['opaque']);
  assert.deepEqual(field(filter('-A INPUT -m geoip --src-cc CN -j DROP')), ['opaque']);
  assert.deepEqual(field(filter('-A INPUT -s 10.0.0.0/255.0.255.0 -j DROP')), ['opaque']);
  const named = loadIptables(filter('-A INPUT -s example.org -j DROP'));
  assert.deepEqual(named.policy.tables[0].chains.get('INPUT')?.rules[0].conditions.map((c) => c.field), ['opaque']);
  const lim = rule(filter('-A INPUT -m limit --limit 5/min --limit-burst 10 -j ACCEPT')).conditions[0];
  assert.ok(lim.field === 'opaque' && lim.what === '-m limit --limit 5/min --limit-burst 10');
  assert.deepEqual(lim.range, r1(5, 9, 48));
});

test('actions: verdicts, return, jump, goto, non-terminal targets, no target', () => {
  const act = (target: string) => rule(filter(`-A INPUT ${target}`)).action;
  assert.deepEqual(act('-j DROP'), { kind: 'verdict', verdict: 'drop', range: r1(5, 12, 16) });
  assert.deepEqual(act('-j REJECT --reject-with icmp-admin-prohibited'), { kind: 'verdict', verdict: 'reject', range: r1(5, 12, 18) });
  assert.deepEqual(act('-j RETURN'), { kind: 'return', range: r1(5, 12, 18) });
  assert.deepEqual(act('-j USER'), { kind: 'jump', chain: 'USER', range: r1(5, 12, 16) });
  assert.deepEqual(act('-g USER'), { kind: 'goto', chain: 'USER', range: r1(5, 12, 16) });
  assert.deepEqual(act('-j LOG --log-prefix x'), { kind: 'continue', target: 'LOG', range: r1(5, 12, 15) });
  assert.deepEqual(act('-j MARK --set-mark 1'), { kind: 'continue', target: 'MARK', range: r1(5, 12, 16) });
  assert.deepEqual(act('-s 10.0.0.1'), { kind: 'continue', target: '' });
  const nat = policy(file('*nat', '-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.0.0.1:8080', 'COMMIT'));
  assert.deepEqual(nat.tables[0].chains.get('PREROUTING')?.rules[0].action, { kind: 'continue', target: 'DNAT', range: r1(1, 35, 39) });
  assert.deepEqual(nat.entries, []);
  assert.equal(nat.defaultEntry, undefined);
});

test('final rule order after -I, and rules of a chain declared again', () => {
  const p = policy(filter('-A INPUT -s 10.0.0.1 -j ACCEPT', '-I INPUT -s 10.0.0.2 -j DROP', '-A USER -j ACCEPT', ':USER - [0:0]', '-A USER -j DROP'));
  const input = p.tables[0].chains.get('INPUT')?.rules ?? [];
  assert.deepEqual(input.map((r) => [r.index, r.range.start.line]), [[0, 6], [1, 5]]);
  assert.deepEqual(p.tables[0].chains.get('USER')?.rules.map((r) => r.action), [{ kind: 'verdict', verdict: 'drop', range: r1(9, 11, 15) }]);
});

test('bad lines are left out of the model; a table restored twice keeps its last block', () => {
  const p = policy(file('*filter', '-A INPUT -j ACCEPT', 'COMMIT', '*filter', '-A INPUT -j DROP', 'COMMIT'));
  assert.equal(p.tables.length, 1);
  assert.deepEqual(p.tables[0].chains.get('INPUT')?.rules.map((r) => r.range.start.line), [4]);
  const r = loadIptables(filter('-A INPUT -p tcp --dport 99999 -j ACCEPT', '-A INPUT -j ACCEPT'));
  assert.deepEqual(r.findings.map((f) => f.code), ['invalid-value']);
  assert.deepEqual(r.policy.tables[0].chains.get('INPUT')?.rules.map((x) => x.range.start.line), [6]);
});

test('loadIptables returns the tree too, and the family it read', () => {
  const r = loadIptables(filter('-A INPUT -s 2001:db8::1 -j ACCEPT'));
  assert.equal(r.file.family, 6);
  assert.deepEqual(r.policy.families, [6]);
  const r4 = loadIptables(filter('-A INPUT -j ACCEPT'), 4);
  assert.equal(r4.file.familySource, 'caller');
});

test('the shared corpus files lower without errors', async () => {
  const { existsSync, readdirSync, readFileSync } = await import('node:fs');
  const path = await import('node:path');
  const dir = path.resolve(__dirname, '../../../shared/corpus/iptables');
  if (!existsSync(dir)) return; // unit tests must not depend on the corpus
  for (const name of readdirSync(dir)) {
    const r = loadIptables(readFileSync(path.join(dir, name), 'utf8'));
    assert.deepEqual(r.findings.filter((f) => f.severity === 'error'), [], name);
    assert.ok((r.policy.tables[0]?.chains.get('INPUT')?.rules.length ?? 0) > 0, name);
  }
});

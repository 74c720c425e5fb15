// Lowering nftables into the model: tables, chains, entries and stages, conditions with their
// implied protocol and family, verdict maps, named sets, actions, ranges — and an end-to-end
// check through the analysis (a packet's verdict, a finding on the rule that drops everything).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNftables } from '../../server/src/syntax/nftables/lower';
import type { Chain, Condition, Policy, Rule } from '../../server/src/model/policy';
import { analyzeDocument, DocumentAnalysis } from '../../server/src/features/document';

function policyOf(text: string): Policy {
  const r = loadNftables(text);
  const errs = r.findings.filter((f) => f.severity === 'error');
  assert.deepEqual(errs.map((f) => `${f.range.start.line + 1}: ${f.message}`), []);
  return r.policy;
}

function chain(p: Policy, table: string, name: string): Chain {
  const c = p.tables.find((t) => t.name === table)?.chains.get(name);
  assert.ok(c, `no chain ${table} ${name}`);
  return c;
}

/** Rules of the only chain `c` of a one-chain ruleset in family `fam`. */
function rules(body: string, fam = 'inet'): Rule[] {
  return chain(policyOf(`table ${fam} t {\n  chain c {\n${body.split('\n').map((l) => '    ' + l).join('\n')}\n  }\n}\n`), `${fam} t`, 'c').rules;
}

/** Conditions with ranges stripped and bigints as strings, for comparison. */
function conds(r: Rule): unknown[] {
  return JSON.parse(JSON.stringify(r.conditions, (k, v) => (k === 'range' ? undefined : typeof v === 'bigint' ? v.toString() : v)));
}

const v4 = (a: string): bigint => a.split('.').reduce((acc, o) => acc * 256n + BigInt(o), 0n);

test('tables are named "family name", chains keep hook, priority, policy and family', () => {
  const p = policyOf([
    'table inet filter {',
    '  chain input {',
    '    type filter hook input priority filter + 10; policy drop;',
    '  }',
    '  chain helper {',
    '  }',
    '}',
    'table ip filter {',
    '  chain input {',
    '    type filter hook input priority raw;',
    '  }',
    '}',
    '',
  ].join('\n'));
  assert.equal(p.format, 'nftables');
  assert.deepEqual(p.tables.map((t) => [t.name, t.family]), [['inet filter', 'inet'], ['ip filter', 'ip']]);
  const inet = chain(p, 'inet filter', 'input');
  assert.deepEqual([inet.hook, inet.priority, inet.policy, inet.family], ['input', 10, 'drop', 'both']);
  const l2 = '    type filter hook input priority filter + 10; policy drop;';
  assert.deepEqual(inet.policyRange, { start: { line: 2, character: l2.indexOf('policy') }, end: { line: 2, character: l2.indexOf(';', l2.indexOf('policy')) } });
  assert.deepEqual(inet.range, { start: { line: 1, character: 8 }, end: { line: 1, character: 13 } });
  const ip = chain(p, 'ip filter', 'input');
  // No policy given: accept, and the policy range is the type/hook declaration.
  assert.deepEqual([ip.hook, ip.priority, ip.policy, ip.family], ['input', -300, 'accept', 4]);
  assert.deepEqual(ip.policyRange, { start: { line: 9, character: 4 }, end: { line: 9, character: '    type filter hook input priority raw'.length } });
  const helper = chain(p, 'inet filter', 'helper');
  assert.equal(helper.policy, undefined);
  assert.equal(helper.hook, undefined);
  assert.deepEqual(p.families, [4, 6]);
});

test('entries: one per hook, stages of all families by priority, ties in file order', () => {
  const p = policyOf([
    'table inet a {',
    '  chain in1 { type filter hook input priority 0; }',
    '  chain fw { type filter hook forward priority 0; }',
    '}',
    'table ip b {',
    '  chain in2 { type filter hook input priority -10; }',
    '  chain in3 { type filter hook input priority 0; }',
    '  chain nat { type nat hook input priority 100; }',
    '}',
    'table ip6 c {',
    '  chain in4 { type filter hook input priority security; }',
    '}',
    'table netdev d {',
    '  chain ing { type filter hook ingress device lo priority 0; }',
    '}',
    '',
  ].join('\n'));
  assert.deepEqual(p.entries.map((e) => e.name), ['input', 'forward']);
  const input = p.entries[0];
  assert.deepEqual(input.stages.map((s) => `${s.table}/${s.name}`), ['ip b/in2', 'inet a/in1', 'ip b/in3', 'ip6 c/in4']);
  assert.deepEqual(input.stages.map((s) => s.family), [4, 'both', 4, 6]);
  assert.deepEqual(input.families, [4, 6]);
  assert.equal(p.defaultEntry, 'input');
  assert.deepEqual(p.entries[1].families, [4, 6]);
  // An ip-only file sees IPv4 only.
  const ip = policyOf('table ip t {\n  chain c { type filter hook output priority 0; }\n}\n');
  assert.deepEqual(ip.entries.map((e) => [e.name, e.families]), [['output', [4]]]);
  assert.deepEqual(ip.families, [4]);
});

test('addresses: family implied in inet tables only; prefixes, ranges, sets, negation', () => {
  const [a, b, c, d] = rules('ip saddr 10.0.0.0/8 accept\nip daddr != { 192.168.1.1, 192.168.2.0-192.168.2.9 } drop\nip6 saddr fe80::/10 accept\nip saddr 10.1.1.1 accept');
  assert.deepEqual(conds(a), [
    { field: 'family', negate: false, families: [4] },
    { field: 'src', negate: false, addrs: [{ family: 4, first: v4('10.0.0.0').toString(), last: v4('10.255.255.255').toString() }] },
  ]);
  assert.deepEqual(conds(b), [
    { field: 'family', negate: false, families: [4] },
    { field: 'dst', negate: true, addrs: [
      { family: 4, first: v4('192.168.1.1').toString(), last: v4('192.168.1.1').toString() },
      { family: 4, first: v4('192.168.2.0').toString(), last: v4('192.168.2.9').toString() },
    ] },
  ]);
  assert.deepEqual(conds(c)[0], { field: 'family', negate: false, families: [6] });
  assert.deepEqual((conds(c)[1] as { addrs: unknown[] }).addrs, [{ family: 6, first: (0xfe80n << 112n).toString(), last: ((0xfe80n << 112n) | ((1n << 118n) - 1n)).toString() }]);
  assert.equal(conds(d).length, 2);
  // In an ip table the family is the table's: no family condition.
  assert.deepEqual(conds(rules('ip saddr 10.0.0.0/8 accept', 'ip')[0]).map((x) => (x as Condition).field), ['src']);
});

test('ports imply their protocol; th ports are any transport header', () => {
  const [tcp, udp, th] = rules('tcp dport { 22, 80-81 } accept\nudp sport != 53 accept\nth dport 53 accept');
  assert.deepEqual(conds(tcp), [
    { field: 'proto', negate: false, protos: [6] },
    { field: 'dport', negate: false, ports: [{ lo: 22, hi: 22 }, { lo: 80, hi: 81 }] },
  ]);
  assert.deepEqual(conds(udp), [{ field: 'proto', negate: false, protos: [17] }, { field: 'sport', negate: true, ports: [{ lo: 53, hi: 53 }] }]);
  const any = th.conditions[0];
  assert.equal(any.field, 'any');
  assert.ok(any.field === 'any');
  assert.deepEqual(any.alternatives.map((alt) => alt.map((c) => c.field)), [['proto', 'dport'], ['proto', 'opaque']]);
  // Comparisons become ranges.
  assert.deepEqual(conds(rules('tcp dport < 1024 accept')[0])[1], { field: 'dport', negate: false, ports: [{ lo: 0, hi: 1023 }] });
});

test('protocol matches: meta l4proto, ip protocol, ip6 nexthdr (only may match), meta nfproto', () => {
  const [l4, ipp, nh, nf] = rules('meta l4proto { tcp, udp } accept\nip protocol icmp accept\nip6 nexthdr tcp accept\nmeta nfproto ipv6 accept');
  assert.deepEqual(conds(l4), [{ field: 'proto', negate: false, protos: [6, 17] }]);
  assert.deepEqual(conds(ipp), [{ field: 'family', negate: false, families: [4] }, { field: 'proto', negate: false, protos: [1] }]);
  assert.deepEqual(conds(nh).map((c) => (c as Condition).field), ['family', 'proto', 'opaque']);
  assert.deepEqual(conds(nf), [{ field: 'family', negate: false, families: [6] }]);
});

test('icmp types: family and protocol implied, type*256+code keys', () => {
  const [v4r, v6r] = rules('icmp type { echo-request, destination-unreachable } accept\nicmpv6 type nd-neighbor-solicit accept');
  assert.deepEqual(conds(v4r), [
    { field: 'family', negate: false, families: [4] },
    { field: 'proto', negate: false, protos: [1] },
    { field: 'icmp', negate: false, keys: [{ lo: 8 * 256, hi: 8 * 256 + 255 }, { lo: 3 * 256, hi: 3 * 256 + 255 }] },
  ]);
  assert.deepEqual(conds(v6r), [
    { field: 'family', negate: false, families: [6] },
    { field: 'proto', negate: false, protos: [58] },
    { field: 'icmp', negate: false, keys: [{ lo: 135 * 256, hi: 135 * 256 + 255 }] },
  ]);
});

test('interfaces: names, wildcards as name+, iif like iifname; connection states', () => {
  const [a, b, c, d] = rules('iifname "eth*" accept\noifname { "lo", wg0 } accept\niif lo accept\nct state established,related accept');
  assert.deepEqual(conds(a), [{ field: 'iif', negate: false, names: ['eth+'] }]);
  assert.deepEqual(conds(b), [{ field: 'oif', negate: false, names: ['lo', 'wg0'] }]);
  assert.deepEqual(conds(c), [{ field: 'iif', negate: false, names: ['lo'] }]);
  assert.deepEqual(conds(d), [{ field: 'state', negate: false, states: ['ESTABLISHED', 'RELATED'] }]);
  assert.deepEqual(conds(rules('ct state != { new, invalid } drop')[0]), [{ field: 'state', negate: true, states: ['NEW', 'INVALID'] }]);
});

test('what the model cannot see is opaque: marks, rates, fib, flags, status', () => {
  const rs = rules('meta mark 0x1 accept\nlimit rate 10/second accept\nfib daddr type local accept\ntcp flags syn accept\nct status dnat accept\nmeta pkttype host accept\nct mark 5 accept');
  for (const r of rs) assert.ok(r.conditions.some((c) => c.field === 'opaque'), `${r.text} has an opaque condition`);
  assert.deepEqual(conds(rs[1]), [{ field: 'opaque', negate: false, what: 'limit rate 10/second' }]);
  assert.deepEqual(conds(rs[3])[0], { field: 'proto', negate: false, protos: [6] });
});

test('concatenations become alternatives of conjunctions', () => {
  const [r] = rules('ip saddr . tcp dport { 10.0.0.1 . 22, 10.0.0.2 . 80 } accept');
  const c = conds(r);
  assert.deepEqual(c.slice(0, 2), [{ field: 'family', negate: false, families: [4] }, { field: 'proto', negate: false, protos: [6] }]);
  assert.deepEqual(c[2], {
    field: 'any', negate: false, alternatives: [
      [{ field: 'src', negate: false, addrs: [{ family: 4, first: v4('10.0.0.1').toString(), last: v4('10.0.0.1').toString() }] }, { field: 'dport', negate: false, ports: [{ lo: 22, hi: 22 }] }],
      [{ field: 'src', negate: false, addrs: [{ family: 4, first: v4('10.0.0.2').toString(), last: v4('10.0.0.2').toString() }] }, { field: 'dport', negate: false, ports: [{ lo: 80, hi: 80 }] }],
    ],
  });
});

test('a verdict map is one model rule per verdict, in element order, with the same range', () => {
  const text = 'table inet t {\n  chain a {\n  }\n  chain c {\n    tcp dport vmap { 22 : accept, 80 : drop, 443 : accept, 8080 : jump a, * : drop }\n  }\n}\n';
  const rs = chain(policyOf(text), 'inet t', 'c').rules;
  assert.deepEqual(rs.map((r) => r.action.kind === 'verdict' ? r.action.verdict : r.action.kind), ['accept', 'drop', 'jump', 'drop']);
  assert.deepEqual(rs.map((r) => r.index), [0, 1, 2, 3]);
  assert.deepEqual(conds(rs[0]), [{ field: 'proto', negate: false, protos: [6] }, { field: 'dport', negate: false, ports: [{ lo: 22, hi: 22 }, { lo: 443, hi: 443 }] }]);
  assert.deepEqual(conds(rs[3]), [{ field: 'proto', negate: false, protos: [6] }]);
  const line = text.split('\n')[4];
  for (const r of rs) assert.deepEqual(r.range, { start: { line: 4, character: 4 }, end: { line: 4, character: line.length } });
  const ct = rules('ct state vmap { established : accept, related : accept, invalid : drop }');
  assert.deepEqual(ct.map((r) => conds(r)), [[{ field: 'state', negate: false, states: ['ESTABLISHED', 'RELATED'] }], [{ field: 'state', negate: false, states: ['INVALID'] }]]);
});

test('named sets: static sets are read as written; empty, filled or timed ones are opaque', () => {
  const text = [
    'table inet t {',
    '  set fixed { type ipv4_addr; flags constant, interval; elements = { 10.0.0.0/8 } }',
    '  set listed { type ipv4_addr; elements = { 10.0.0.1 } }',
    '  set empty { type ipv4_addr; }',
    '  set dyn { type ipv4_addr; flags dynamic; }',
    '  set filled { type ipv4_addr; }',
    '  chain c {',
    '    ip saddr @fixed accept',
    '    ip saddr @listed accept',
    '    ip saddr @empty drop',
    '    ip saddr @dyn drop',
    '    ip saddr @filled drop',
    '    tcp dport 22 add @filled { ip saddr }',
    '  }',
    '}',
    '',
  ].join('\n');
  const rs = chain(policyOf(text), 'inet t', 'c').rules;
  assert.deepEqual(conds(rs[0])[1], { field: 'src', negate: false, addrs: [{ family: 4, first: v4('10.0.0.0').toString(), last: v4('10.255.255.255').toString() }] });
  // A static set without `flags constant` is still its elements: `nft add element` later is a
  // change of the ruleset, as `nft add rule` would be (the kernel suite checks `!= @set` this way).
  assert.deepEqual(conds(rs[1])[1], { field: 'src', negate: false, addrs: [{ family: 4, first: v4('10.0.0.1').toString(), last: v4('10.0.0.1').toString() }] });
  for (const r of rs.slice(2, 5)) assert.deepEqual(r.conditions.map((c) => c.field), ['family', 'opaque'], r.text);
});

test('named verdict maps and elements added later', () => {
  const text = [
    'table inet t {',
    '  map ports { type inet_service : verdict; flags constant; elements = { 22 : accept } }',
    '  chain c {',
    '    tcp dport vmap @ports',
    '  }',
    '}',
    '',
  ].join('\n');
  const rs = chain(policyOf(text), 'inet t', 'c').rules;
  assert.equal(rs.length, 1);
  assert.deepEqual(conds(rs[0]), [{ field: 'proto', negate: false, protos: [6] }, { field: 'dport', negate: false, ports: [{ lo: 22, hi: 22 }] }]);
  // A set's elements are its final contents, even when added after the rule.
  const later = 'table ip t {\n  set s { type inet_service; elements = { 22 } }\n  chain c {\n    tcp dport @s accept\n  }\n}\nadd element ip t s { 443 }\n';
  const dport = chain(policyOf(later), 'ip t', 'c').rules[0].conditions[1];
  assert.deepEqual(JSON.parse(JSON.stringify(dport, (k, v) => (k === 'range' ? undefined : v))), { field: 'dport', negate: false, ports: [{ lo: 22, hi: 22 }, { lo: 443, hi: 443 }] });
});

test('variables stand for their values, also inside sets', () => {
  const p = policyOf('define NET = 10.0.0.0/8\ndefine PORTS = { 22, 80 }\ntable ip t {\n  chain c {\n    ip saddr $NET tcp dport { $PORTS, 443 } accept\n  }\n}\n');
  const r = chain(p, 'ip t', 'c').rules[0];
  assert.deepEqual(conds(r).map((c) => (c as Condition).field), ['src', 'proto', 'dport']);
  assert.deepEqual((conds(r)[2] as { ports: unknown }).ports, [{ lo: 22, hi: 22 }, { lo: 80, hi: 80 }, { lo: 443, hi: 443 }]);
});

test('actions: verdicts, jump/goto, return, reject, continue, and rules without a verdict', () => {
  const text = 'table inet t {\n  chain x {\n  }\n  chain c {\n    accept\n    drop\n    reject with icmpx type port-unreachable\n    return\n    jump x\n    goto x\n    continue\n    counter\n    log prefix "x"\n    queue\n  }\n}\n';
  const rs = chain(policyOf(text), 'inet t', 'c').rules;
  assert.deepEqual(rs.map((r) => JSON.parse(JSON.stringify(r.action, (k, v) => (k === 'range' ? undefined : v)))), [
    { kind: 'verdict', verdict: 'accept' },
    { kind: 'verdict', verdict: 'drop' },
    { kind: 'verdict', verdict: 'reject' },
    { kind: 'return' },
    { kind: 'jump', chain: 'x' },
    { kind: 'goto', chain: 'x' },
    { kind: 'continue', target: 'continue' },
    { kind: 'continue', target: 'counter' },
    { kind: 'continue', target: 'log' },
    { kind: 'continue', target: 'queue' },
  ]);
  // reject with tcp reset only concerns tcp (nft adds the dependency).
  assert.deepEqual(conds(rules('reject with tcp reset')[0]), [{ field: 'proto', negate: false, protos: [6] }]);
});

test('an anonymous chain becomes a chain of its own that the rule jumps to', () => {
  const p = policyOf('table ip t {\n  chain c {\n    tcp dport 22 jump { ip saddr 10.0.0.1 accept; drop; }\n  }\n}\n');
  const r = chain(p, 'ip t', 'c').rules[0];
  assert.equal(r.action.kind, 'jump');
  assert.ok(r.action.kind === 'jump');
  const anon = chain(p, 'ip t', r.action.chain);
  assert.deepEqual(anon.rules.map((x) => x.text), ['ip saddr 10.0.0.1 accept', 'drop']);
});

test('ranges: the rule is the whole statement, a condition its value token', () => {
  const text = 'table inet t {\n  chain c {\n    iifname "eth0" ip saddr 10.0.0.0/8 tcp dport { 22, 443 } counter accept comment "x"\n  }\n}\n';
  const r = chain(policyOf(text), 'inet t', 'c').rules[0];
  const line = text.split('\n')[2];
  const at = (s: string, from = 0) => ({ start: { line: 2, character: line.indexOf(s, from) }, end: { line: 2, character: line.indexOf(s, from) + s.length } });
  assert.deepEqual(r.range, { start: { line: 2, character: 4 }, end: { line: 2, character: line.length } });
  assert.equal(r.text, 'iifname "eth0" ip saddr 10.0.0.0/8 tcp dport { 22, 443 } counter accept comment "x"');
  assert.equal(r.comment, 'x');
  const byField = (f: string) => r.conditions.find((c) => c.field === f)!.range;
  assert.deepEqual(byField('iif'), at('"eth0"'));
  assert.deepEqual(byField('src'), at('10.0.0.0/8'));
  assert.deepEqual(byField('dport'), at('{ 22, 443 }'));
  assert.deepEqual(r.action.range, at('accept'));
});

test('cidr-host-bits: a warning with the network as data (nft accepts the address)', () => {
  const r = loadNftables('table ip t {\n  chain c {\n    ip saddr 10.0.0.1/24 accept\n  }\n}\n');
  assert.equal(r.findings.length, 1);
  const f = r.findings[0];
  assert.deepEqual([f.code, f.severity], ['cidr-host-bits', 'warning']);
  assert.deepEqual(f.data, { network: '10.0.0.0/24' });
  assert.deepEqual(f.range, { start: { line: 2, character: 13 }, end: { line: 2, character: 24 } });
  // The rule still means the network.
  assert.deepEqual(conds(r.policy.tables[0].chains.get('c')!.rules[0])[0], { field: 'src', negate: false, addrs: [{ family: 4, first: v4('10.0.0.0').toString(), last: v4('10.0.0.255').toString() }] });
});

test('a rule with an error is left out of the model; the others stay', () => {
  const r = loadNftables('table ip t {\n  chain c {\n    tcp dport 99999 accept\n    tcp dport 22 accept\n  }\n}\n');
  assert.equal(r.findings.length, 1);
  assert.deepEqual(r.policy.tables[0].chains.get('c')!.rules.map((x) => x.text), ['tcp dport 22 accept']);
});

function analyze(text: string): DocumentAnalysis {
  const d = analyzeDocument(text, { language: 'nftables' });
  if ('error' in d) throw new Error(d.error);
  return d;
}

test('end to end: the lowered policy is what the analysis reads', () => {
  const text = [
    'table inet filter {',
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    '    ip saddr 0.0.0.0/0 drop',
    '    tcp dport 22 accept',
    '  }',
    '}',
    '',
  ].join('\n');
  const d = analyze(text);
  assert.equal(d.policy.format, 'nftables');
  // The IPv4 drop-all rule leaves the ssh rule reachable (and open to the world) for IPv6 only:
  // the analysis sees both families of the inet table.
  const lines = d.findings.filter((f) => f.code !== 'syntax').map((f) => f.range.start.line);
  assert.ok(lines.includes(3) || lines.includes(4), `findings: ${JSON.stringify(d.findings.map((f) => [f.code, f.range.start.line]))}`);
});

test('loading scales linearly with the number of rules', () => {
  const file = (n: number): string => {
    const lines = ['table inet filter {', '  set allowed { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 } }', '  chain input {', '    type filter hook input priority 0; policy drop;'];
    for (let i = 0; i < n; i++) lines.push(`    ip saddr 10.${(i >> 8) & 255}.${i & 255}.0/24 tcp dport { ${1 + (i % 60000)}, 443 } ct state new counter accept comment "r${i}"`);
    lines.push('    ip saddr @allowed accept', '  }', '}', '');
    return lines.join('\n');
  };
  const time = (n: number): number => {
    const text = file(n);
    const t0 = performance.now();
    const r = loadNftables(text);
    const t = performance.now() - t0;
    assert.equal(r.policy.tables[0].chains.get('input')!.rules.length, n + 1);
    return t;
  };
  time(500); // warm up
  const small = time(1000);
  const big = time(4000);
  // Quadratic would be 16x; a generous bound keeps a loaded machine from failing the test.
  assert.ok(big < Math.max(400, small * 10), `4x the rules took ${big.toFixed(0)} ms vs ${small.toFixed(0)} ms`);
});

test('a constant key filling a set is read as the set\'s key type, as nft does (a forgotten `ip` leaves a host name)', () => {
  const text = (stmt: string) => `table ip t {\n  set s { type ipv4_addr . inet_service; flags dynamic; }\n  chain c {\n    ${stmt}\n  }\n}\n`;
  const errors = (stmt: string) => loadNftables(text(stmt)).findings.filter((f) => f.severity === 'error').map((f) => `${f.range.start.line}:${f.range.start.character} ${f.message}`);
  assert.deepEqual(errors('update @s { ip saddr . tcp dport } accept'), []);
  assert.deepEqual(errors('update @s { 10.0.0.1 . 22 } accept'), []);
  const bad = errors('update @s { saddr . tcp dport } accept');
  assert.equal(bad.length, 1, bad.join('\n'));
  assert.match(bad[0], /^3:16 'saddr' is not an IPv4 address/);
  assert.equal(errors('set update 10.0.0.1 . ssh @s drop').length, 0);
  assert.equal(errors('set update 10.0.0.1 . sshh @s drop').length, 1, 'an unknown service');
});

test('meta nfproto only in inet tables; a meter is a set of its table, once (each case checked with nft -c)', () => {
  const errors = (text: string) => loadNftables(text).findings.filter((f) => f.severity === 'error').map((f) => `${f.range.start.line}:${f.range.start.character} ${f.message}`);
  for (const fam of ['ip', 'ip6', 'bridge', 'arp']) {
    assert.deepEqual(errors(`table ${fam} t {\n  chain c {\n    meta nfproto ipv4 accept\n  }\n}\n`), [`2:4 meta nfproto is only useful in the inet family`], fam);
  }
  assert.deepEqual(errors('table inet t {\n  chain c {\n    meta nfproto ipv4 accept\n  }\n}\n'), []);

  const meter = (name: string, port: number) => `tcp dport ${port} meter ${name} { ip saddr limit rate over 10/second } drop`;
  assert.deepEqual(errors(`table ip t {\n  chain c {\n    ${meter('m1', 80)}\n    ${meter('m2', 81)}\n  }\n}\n`), []);
  assert.deepEqual(errors(`table ip t {\n  chain c {\n    ${meter('m1', 80)}\n  }\n}\ntable ip u {\n  chain c {\n    ${meter('m1', 80)}\n  }\n}\n`), [], 'one per table');
  const twice = errors(`table ip t {\n  chain c {\n    ${meter('m1', 80)}\n  }\n  chain d {\n    ${meter('m1', 81)}\n  }\n}\n`);
  assert.equal(twice.length, 1, twice.join('\n'));
  assert.match(twice[0], /^5:23 Could not process rule: Device or resource busy/);
  const overSet = errors(`table ip t {\n  set m1 { type ipv4_addr; }\n  chain c {\n    ${meter('m1', 80)}\n  }\n}\n`);
  assert.equal(overSet.length, 1, overSet.join('\n'));
  assert.match(overSet[0], /^3:23 Could not process rule: File exists/);
  // A rule lowered twice (it also names a set, whose contents come later) is not its own rival.
  assert.deepEqual(errors(`table ip t {\n  set s { type ipv4_addr; }\n  chain c {\n    ip saddr @s ${meter('m1', 80)}\n  }\n}\n`), []);
});

test('a value where a match needs a packet field: in a concatenation, or a variable starting a match (nft reports it at the define)', () => {
  const errors = (stmt: string) => loadNftables(`define P = 22\ntable ip t {\n  chain c {\n    ${stmt}\n  }\n}\n`).findings.filter((f) => f.severity === 'error').map((f) => `${f.range.start.line}:${f.range.start.character} ${f.message.split(':')[0]}`);
  assert.deepEqual(errors('ip saddr . tcp dport { 10.0.0.1 . 22 } accept'), []);
  assert.deepEqual(errors('ip saddr . dport { 10.0.0.1 . 22 } accept'), ["3:15 Can't parse symbolic invalid expressions"]);
  assert.deepEqual(errors('ip saddr . $P { 10.0.0.1 . 22 } accept'), ["0:11 Can't parse symbolic invalid expressions", "3:15 Can't parse symbolic invalid expressions"]);
  assert.deepEqual(errors('$P 22 accept'), ['0:11 No symbol type information', '3:4 a match starts with a packet field (ip saddr, tcp dport ...), not with a variable']);
  assert.deepEqual(errors('udp sport 1 $P ip saddr 10.0.0.1 accept'), ['0:11 No symbol type information', '3:16 a match starts with a packet field (ip saddr, tcp dport ...), not with a variable']);
  // Not a well-formed match: nft stops at the syntax, before any type.
  assert.deepEqual(errors('$P accept'), ["3:7 expected a value to match the expression against, found 'accept'"]);
  assert.deepEqual(errors('tcp dport $P accept'), []);
});

test('reject with tcp reset is checked against the transport protocol named last by one value; conflicts against all of them (each case as nft -c answers it)', () => {
  const error = (stmt: string) => loadNftables(`table ip6 t {\n  chain c {\n    type filter hook input priority 0;\n    ${stmt}\n  }\n}\n`).findings.find((f) => f.severity === 'error')?.message ?? 'OK';
  const cases: [string, string][] = [
    ['ip6 nexthdr udp ip6 nexthdr tcp reject with tcp reset', 'OK'],
    ['ip6 nexthdr tcp ip6 nexthdr udp reject with tcp reset', 'you cannot use tcp reset with this protocol'],
    ['ip6 nexthdr udp ip6 nexthdr tcp udp dport 53 accept', 'conflicting protocols specified: tcp vs. udp'],
    ['meta l4proto udp meta l4proto tcp reject with tcp reset', 'OK'],
    ['ip6 nexthdr { udp, tcp } reject with tcp reset', 'OK'],
    ['ip6 nexthdr { udp } reject with tcp reset', 'you cannot use tcp reset with this protocol'],
    ['ip6 nexthdr { udp, tcp } udp dport 53 accept', 'conflicting protocols specified: tcp vs. udp'],
    ['meta l4proto gre reject with tcp reset', 'you cannot use tcp reset with this protocol'],
    ['tcp dport 22 meta l4proto udp reject with tcp reset', 'you cannot use tcp reset with this protocol'],
    ['th dport 22 reject with tcp reset', 'OK'],
  ];
  for (const [stmt, expected] of cases) assert.equal(error(stmt), expected, stmt);
});

test('elements added to a set: only a constant set declared with elements refuses more, and create refuses one that is there (each case as nft -c answers it)', () => {
  const error = (decl: string, cmds: string) => loadNftables(`table ip t {\n  set s { type inet_service; ${decl} }\n}\n${cmds}\n`).findings.find((f) => f.severity === 'error')?.message.split(' (')[0] ?? 'OK';
  const cases: [string, string, string][] = [
    ['flags constant; elements = { 1, 2 };', 'add element ip t s { 3 }', 'Could not process rule: Too many open files in system'],
    ['flags constant; elements = { 1, 2 };', 'add element ip t s { 1 }', 'OK'],
    ['flags constant;', 'add element ip t s { 1, 2 }\nadd element ip t s { 3 }', 'OK'],
    ['flags constant; size 1;', 'add element ip t s { 1 }\nadd element ip t s { 2 }', 'OK'],
    ['flags constant;', 'add element ip t s { 1 }\ncreate element ip t s { 1 }', 'Could not process rule: File exists'],
    ['flags constant;', 'add element ip t s { 1 }\ncreate element ip t s { 2 }', 'OK'],
    ['flags interval;', 'add element ip t s { 1-5 }\ncreate element ip t s { 1-5 }', 'Could not process rule: File exists'],
    ['elements = { 7 };', 'create element ip t s { 7 }', 'Could not process rule: File exists'],
  ];
  for (const [decl, cmds, expected] of cases) assert.equal(error(decl, cmds), expected, `${decl} | ${cmds}`);
});

test('a map lookup as a value (meta mark set KEY map ...), a jhash key and a meter key are checked like a match: protocols, the map, its keys and data (each case as nft -c answers it)', () => {
  const error = (stmt: string) => loadNftables(`table inet t {\n  set s { type ipv4_addr; }\n  map m { type ipv4_addr : mark; }\n  chain c {\n    ${stmt}\n  }\n}\n`).findings.find((f) => f.severity === 'error')?.message.split(' (')[0].split(':')[0] ?? 'OK';
  const cases: [string, string][] = [
    ['meta mark set ip saddr map @m', 'OK'],
    ['meta mark set ip saddr map @nosuch', "set '@nosuch' does not exist in table inet t"], // nft: No such file or directory
    ['meta mark set ip saddr map @s', 'Expression is not a map'],
    ['meta mark set tcp dport map @m', 'datatype mismatch, expected internet network service, expression has type IPv4 address'],
    ['meta mark set ip saddr map { 10.0.0.0/40 : 1 }', 'Prefix length 40 is invalid for type of 32 bits width'],
    ['meta mark set tcp dport map { 65536 : 1 }', 'Service out of range'],
    ['meta mark set ip saddr map { 10.0.0.0/8 : 1, 10.1.0.0/16 : 2 }', 'conflicting intervals specified'],
    ['meta mark set ip saddr map { 10.0.0.1 : 1, 10.0.0.1 : 2 }', 'Could not process rule'], // File exists
    ['meta mark set ip saddr map { 10.0.0.1 : 1, 10.0.0.1 : 1 }', 'OK'],
    ['meta mark set ip saddr map { 10.0.0.1 : 4294967296 }', 'Value 4294967296 exceeds valid range 0-4294967295'],
    ['icmpv6 type echo-request meta mark set ip saddr map @m', 'conflicting protocols specified'], // ip6 vs. ip
    ['ip6 nexthdr udp meta mark set tcp dport map { 22 : 1 }', 'conflicting protocols specified'], // udp vs. tcp
    ['icmpv6 type echo-request jhash ip saddr mod 2 0', 'conflicting protocols specified'], // ip6 vs. ip
    ['ct mark set jhash ip saddr . tcp dport mod 4 udp dport 53', 'conflicting protocols specified'], // tcp vs. udp
    // jhash's key names the network protocol first: icmpv6 then adds no IPv6 dependency.
    ['jhash ip saddr mod 2 0 icmpv6 type echo-request ip daddr 10.0.0.1', 'OK'],
    ['icmpv6 type echo-request meter mm { ip saddr counter }', 'conflicting protocols specified'], // ip6 vs. ip
    ['meter mm { ip6 saddr counter } ip6 daddr fd00::1', 'OK'],
  ];
  for (const [stmt, expected] of cases) assert.equal(error(stmt), expected, stmt);
});

test('a number set into an integer, mark or dscp field must fit it (each case as nft -c answers it)', () => {
  const error = (stmt: string) => loadNftables(`table inet t {\n  chain c {\n    ${stmt}\n  }\n}\n`).findings.find((f) => f.severity === 'error')?.message ?? 'OK';
  const cases: [string, string][] = [
    ['ip ttl set 70000', 'Value 70000 exceeds valid range 0-255'],
    ['ip ttl set 255', 'OK'],
    ['ip6 hoplimit set 256', 'Value 256 exceeds valid range 0-255'],
    ['ip dscp set 64', 'Value 64 exceeds valid range 0-63'],
    ['ip dscp set cs1', 'OK'],
    ['meta mark set 4294967296', 'Value 4294967296 exceeds valid range 0-4294967295'],
    ['ct mark set 4294967296', 'Value 4294967296 exceeds valid range 0-4294967295'],
    ['meta mark set 0xffffffff', 'OK'],
    ['meta priority set 1:2', 'OK'],
  ];
  for (const [stmt, expected] of cases) assert.equal(error(stmt), expected, stmt);
});

test('numgen and hash values within their modulus, tcp option fields within their width, typed keys, negated flag lists (each case as nft -c answers it)', () => {
  const error = (stmt: string) => loadNftables(`define P = 22\ntable ip t {\n  chain c {\n    type filter hook input priority 0;\n    ${stmt}\n  }\n}\n`).findings.find((f) => f.severity === 'error')?.message ?? 'OK';
  const cases: [string, string][] = [
    ['jhash ip saddr mod 2 70000 accept', 'Value 70000 exceeds valid range 0-1'],
    ['jhash ip saddr mod 2 offset 100 101 accept', 'OK'],
    ['jhash ip saddr mod 2 offset 100 102 accept', 'Value 102 exceeds valid range 0-101'],
    ['numgen inc mod 3 3 accept', 'Value 3 exceeds valid range 0-2'],
    ['jhash ip saddr mod 2 0-5 accept', 'Value 5 exceeds valid range 0-1'],
    ['numgen inc mod 4294967295 0 accept', 'OK'],
    ['tcp option maxseg size 70000 accept', 'Value 70000 exceeds valid range 0-65535'],
    ['tcp option maxseg size 1460 accept', 'OK'],
    ['tcp option window count 300 accept', 'Value 300 exceeds valid range 0-255'],
    ['tcp option maxseg size set 99999', 'Value 99999 exceeds valid range 0-65535'],
    ['tcp option 254 length 1 accept', 'OK'],
    ['ct state ! untracked,invalid accept', 'OK'],
    ['jhash ip saddr . tcp dport mod 3 0 accept', 'OK'],
    ['meter m4 { ip saddr limit rate over 10/second } accept', 'OK'],
    ['tcp option maxseg size set 1400', 'OK'],
    ['tcp option maxseg exists accept', 'OK'],
    ['tcp option maxseg set 1400', 'Value 1400 exceeds valid range 0-255'],
    ['tcp option maxseg 1460 accept', 'Value 1460 exceeds valid range 0-255'],
    ['tcp option maxseg missing accept', 'OK'],
  ];
  for (const [stmt, expected] of cases) assert.equal(error(stmt), expected, stmt);
  const starts = (stmt: string, prefix: string) => assert.ok(error(stmt).startsWith(prefix), `${stmt}: ${error(stmt)}`);
  starts('numgen inc mod 0 0 accept', 'Could not process rule: Numerical result out of range');
  starts('numgen inc mod 4294967296 0 accept', 'Could not process rule: Numerical result out of range');
  starts('tcp option size 1460 accept', 'expected a TCP option'); // nft: syntax error, unexpected size
  starts('ct state ! { untracked, invalid } accept', 'negation can only be used with singleton bitmask values');
  starts('meter m1 { saddr limit rate over 10/second } accept', 'No symbol type information');
  starts('meter m3 { ip saddr . 22 limit rate over 10/second } accept', "Can't parse symbolic invalid expressions");
  starts('jhash saddr mod 3 0 accept', 'No symbol type information');
  starts('tcp option window set 3', 'Could not process rule: Operation not supported');
});

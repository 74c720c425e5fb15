// The nftables parser: structure, separators, recovery, variables, includes, commands — and the
// errors nft itself reports (each checked against `nft -c -f` when this was written).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNftables } from '../../server/src/syntax/nftables/parser';
import { loadNftables } from '../../server/src/syntax/nftables/lower';
import type { Finding } from '../../server/src/model/finding';

/** Findings of a text as "line:code" (1-based lines, errors and warnings). */
function problems(text: string, opts: Parameters<typeof loadNftables>[1] = {}): string[] {
  return loadNftables(text, opts).findings.filter((f) => f.severity === 'error' || f.severity === 'warning').map((f) => `${f.range.start.line + 1}:${f.code}`);
}

function errors(text: string, opts: Parameters<typeof loadNftables>[1] = {}): Finding[] {
  return loadNftables(text, opts).findings.filter((f) => f.severity === 'error');
}

function ok(text: string, opts: Parameters<typeof loadNftables>[1] = {}): void {
  const e = errors(text, opts);
  assert.deepEqual(e.map((f) => `${f.range.start.line + 1}: ${f.message}`), []);
}

function rulesOf(text: string, chain = 'c'): string[] {
  const r = loadNftables(text);
  for (const t of r.policy.tables) {
    const c = t.chains.get(chain);
    if (c) return c.rules.map((x) => x.text);
  }
  return [];
}

test('a table with chains, a set and a map parses into commands', () => {
  const text = [
    '#!/usr/sbin/nft -f',
    'flush ruleset',
    'define LAN = 192.168.1.0/24',
    'table inet filter {',
    '  set blocked { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 172.16.0.0/12 } }',
    '  map ports { type inet_service : verdict; elements = { 22 : accept, 23 : drop } }',
    '  chain input {',
    '    type filter hook input priority filter - 5; policy drop;',
    '    ct state established,related accept',
    '    ip saddr $LAN tcp dport 22 accept',
    '  }',
    '}',
    '',
  ].join('\n');
  const p = parseNftables(text);
  assert.deepEqual(p.problems, []);
  assert.deepEqual(p.file.commands.map((c) => c.c), ['flush', 'table']);
  const table = p.file.commands[1];
  assert.ok(table.c === 'table' && table.items);
  assert.deepEqual(table.items.map((i) => i.i), ['set', 'set', 'chain']);
  ok(text);
});

test("a chain's '}' needs a separator after it, and a rule needs one before '}'", () => {
  assert.deepEqual(problems('table ip t { chain c { accept; } }\n'), ['1:syntax']);
  assert.deepEqual(problems('table ip t {\n  chain c { accept }\n}\n'), ['2:syntax']);
  ok('table ip t { chain c { accept; }; }\n');
  ok('table ip t {\n  chain c {\n    accept\n  }\n}');
});

test('the chain declaration: type, hook and priority need their separators', () => {
  assert.deepEqual(problems('table ip t {\n chain c { type filter hook input priority 0 }\n}\n'), ['2:syntax']);
  const e = errors('table ip t {\n  chain c {\n    type filtr hook input priority 0;\n  }\n}\n');
  assert.equal(e.length, 1);
  assert.equal(e[0].code, 'invalid-value');
  assert.match(e[0].message, /unknown chain type 'filtr'/);
  assert.deepEqual(e[0].range, { start: { line: 2, character: 9 }, end: { line: 2, character: 14 } });
  assert.match(errors('table ip t {\n  chain c {\n    type filter hook inpt priority 0;\n  }\n}\n')[0].message, /unknown chain hook 'inpt'/);
});

test('a bad rule is reported once and skipped; the rest still parses', () => {
  const text = [
    'table inet t {',
    '  chain c {',
    '    tcp dport 22 accept',
    '    tcp dprot 80 accept',
    '    udp dport 53 accept',
    '  }',
    '  chain d {',
    '    acept',
    '    drop',
    '  }',
    '}',
    '',
  ].join('\n');
  const e = errors(text);
  assert.deepEqual(e.map((f) => f.range.start.line + 1), [4, 8]);
  assert.match(e[0].message, /unknown tcp header field 'dprot'/);
  assert.match(e[1].message, /unknown statement 'acept'/);
  assert.deepEqual(rulesOf(text), ['tcp dport 22 accept', 'udp dport 53 accept']);
  assert.deepEqual(rulesOf(text, 'd'), ['drop']);
});

test("a missing '}' is reported where the next block starts; later blocks still parse", () => {
  const text = 'table ip t {\n  chain c {\n    accept\n  chain d {\n    drop\n  }\n}\n';
  const e = errors(text);
  assert.deepEqual(e.map((f) => f.range.start.line + 1), [4]);
  assert.deepEqual(rulesOf(text, 'd'), ['drop']);
  assert.deepEqual(errors('table ip t {\n  chain c {\n    accept\n  }\n').map((f) => f.range.start.line + 1), [5]);
});

test('keywords cannot name things', () => {
  const e = errors('table ip t {\n  chain accept {\n  }\n}\n');
  assert.equal(e.length, 1);
  assert.match(e[0].message, /keyword 'accept'/);
  ok('table ip t {\n  chain saddr {\n  }\n}\n');
});

test('sets: at most one line break between elements, comment lines do not count', () => {
  ok('table ip t {\n  chain c {\n    tcp dport {\n      22,\n      # ssh\n      80\n    } accept\n  }\n}\n');
  assert.deepEqual(problems('table ip t {\n  chain c {\n    tcp dport { 22,\n\n      80 } accept\n  }\n}\n'), ['4:syntax']);
  assert.deepEqual(problems('table ip t {\n  chain c {\n    tcp dport { } accept\n  }\n}\n'), ['3:syntax']);
  ok('table ip t {\n  chain c {\n    tcp dport { 22, } accept\n  }\n}\n');
});

test('statements after a verdict are an error (nft: no effect)', () => {
  assert.deepEqual(problems('table ip t {\n  chain c {\n    tcp dport 22 accept counter\n  }\n}\n'), ['3:syntax']);
  ok('table ip t {\n  chain c {\n    continue counter\n  }\n}\n');
});

test('comment goes last in a rule', () => {
  ok('table ip t {\n  chain c {\n    tcp dport 22 accept comment "ssh"\n  }\n}\n');
  assert.deepEqual(problems('table ip t {\n  chain c {\n    tcp dport 22 comment "ssh" accept\n  }\n}\n'), ['3:syntax']);
  const r = loadNftables('table ip t {\n  chain c {\n    tcp dport 22 accept comment "ssh"\n  }\n}\n');
  assert.equal(r.policy.tables[0].chains.get('c')!.rules[0].comment, 'ssh');
});

test('variables: defined before use, scoped by block, redefine and undefine', () => {
  ok('define P = 22\ntable ip t {\n  chain c {\n    tcp dport $P accept\n  }\n}\n');
  const e = errors('table ip t {\n  chain c {\n    tcp dport $P accept\n  }\n}\ndefine P = 22\n');
  assert.equal(e.length, 1);
  assert.equal(e[0].code, 'undefined-reference');
  assert.deepEqual(e[0].range.start, { line: 2, character: 15 });
  // A define inside a table is not visible in another table.
  const scoped = 'table ip a {\n  define X = 1.2.3.4\n  chain c {\n    ip saddr $X accept\n  }\n}\ntable ip b {\n  chain c {\n    ip saddr $X accept\n  }\n}\n';
  assert.deepEqual(errors(scoped).map((f) => `${f.range.start.line + 1}:${f.code}`), ['9:undefined-reference']);
  assert.deepEqual(problems('define X = 1\ndefine X = 2\n'), ['2:syntax']);
  ok('define X = 1\nredefine X = 2\nundefine X\n');
  assert.deepEqual(problems('undefine X\n'), ['1:undefined-reference']);
  // Sets in variables, also inside other sets.
  ok('define PORTS = { 22, 80 }\ntable ip t {\n  chain c {\n    tcp dport $PORTS accept\n    tcp dport { $PORTS, 443 } accept\n  }\n}\n');
});

test('an error in a variable is reported where the variable is defined', () => {
  const e = errors('define X = 300\ntable ip t {\n  chain c {\n    ip ttl $X accept\n  }\n}\n');
  assert.deepEqual(e.map((f) => `${f.range.start.line + 1}:${f.code}`), ['1:invalid-value']);
});

test('includes: relative to the including file, spliced where they stand', () => {
  const files: Record<string, string> = {
    '/etc/nft/main.nft': 'include "rules.d/vars.nft"\ntable inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    include "rules.d/input.nft"\n  }\n}\n',
    '/etc/nft/rules.d/vars.nft': 'define SSH = 22\n',
    '/etc/nft/rules.d/input.nft': 'tcp dport $SSH accept\nudp dport 53 accept\n',
  };
  const readFile = (p: string) => files[p];
  const r = loadNftables(files['/etc/nft/main.nft'], { path: '/etc/nft/main.nft', readFile });
  assert.deepEqual(r.findings.filter((f) => f.severity === 'error'), []);
  const rules = r.policy.tables[0].chains.get('input')!.rules;
  assert.equal(rules.length, 2);
  // Rules of an included file point at the include directive of the main file.
  assert.deepEqual(rules[0].range, { start: { line: 4, character: 4 }, end: { line: 4, character: 31 } });
  assert.match(rules[0].text, /rules\.d\/input\.nft:1: tcp dport \$SSH accept/);
  assert.deepEqual(r.includes, ['/etc/nft/rules.d/vars.nft', '/etc/nft/rules.d/input.nft']);
});

test('a missing include is an undefined reference on the include line', () => {
  const e = errors('include "nope.nft"\ntable ip t {\n}\n', { path: '/x/main.nft', readFile: () => undefined });
  assert.equal(e.length, 1);
  assert.equal(e[0].code, 'undefined-reference');
  assert.deepEqual(e[0].range, { start: { line: 0, character: 0 }, end: { line: 0, character: 18 } });
});

test('an error inside an included file lands on the include, naming the file and line', () => {
  const files: Record<string, string> = { '/a/inc.nft': 'tcp dport 99999 accept\n' };
  const e = errors('table ip t {\n  chain c {\n    include "inc.nft"\n  }\n}\n', { path: '/a/main.nft', readFile: (p) => files[p] });
  assert.equal(e.length, 1);
  assert.equal(e[0].range.start.line, 2);
  assert.match(e[0].message, /\/a\/inc\.nft:1:11/);
});

test('an include cycle is reported, not followed forever', () => {
  const files: Record<string, string> = { '/a/x.nft': 'include "y.nft"\n', '/a/y.nft': 'include "x.nft"\n' };
  const e = errors(files['/a/x.nft'], { path: '/a/x.nft', readFile: (p) => files[p] });
  assert.ok(e.length >= 1);
  assert.ok(e.some((f) => /cycle|nested too deeply/.test(f.message)));
});

test('command forms: add, insert, create, delete, flush', () => {
  const text = [
    'add table inet f',
    'add chain inet f input { type filter hook input priority 0; policy drop; }',
    'add rule inet f input tcp dport 22 accept',
    'insert rule inet f input ct state established accept',
    'add set inet f s { type ipv4_addr; }',
    'add element inet f s { 10.0.0.1 }',
    'add inet f input udp dport 53 accept',
    '',
  ].join('\n');
  ok(text);
  assert.deepEqual(rulesOf(text, 'input'), ['ct state established accept', 'tcp dport 22 accept', 'udp dport 53 accept']);
  // Referring to what does not exist (yet) is what nft reports.
  assert.deepEqual(problems('add rule ip t c accept\n'), ['1:undefined-reference']);
  assert.deepEqual(problems('flush ruleset\nflush table ip t\n'), ['2:undefined-reference']);
  assert.deepEqual(problems('table ip t\ncreate table ip t\n'), ['2:invalid-value']);
  ok('table ip t {\n  chain c {\n    accept\n  }\n}\nflush table ip t\ndelete table ip t\n');
  assert.deepEqual(rulesOf('table ip t {\n  chain c {\n    accept\n  }\n}\nflush table ip t\n'), []);
  // flush ruleset forgets what came before.
  const flushed = loadNftables('table ip t {\n  chain c {\n  }\n}\nflush ruleset\ntable ip u {\n}\n');
  assert.deepEqual(flushed.policy.tables.map((t) => t.name), ['ip u']);
});

test('the family is optional (ip) and each family is its own namespace', () => {
  const r = loadNftables('table t {\n  chain c {\n  }\n}\ntable ip6 t {\n  chain c {\n  }\n}\n');
  assert.deepEqual(r.policy.tables.map((t) => t.name), ['ip t', 'ip6 t']);
  // An unknown family is an invalid value (nft: a syntax error on that line).
  assert.deepEqual(problems('table foo t {\n}\n'), ['1:invalid-value']);
});

test('references: a table block sees its own chains and sets, later blocks do not exist yet', () => {
  ok('table ip t {\n  chain c {\n    ip saddr @s jump d\n  }\n  chain d {\n  }\n  set s { type ipv4_addr; }\n}\n');
  assert.deepEqual(problems('table ip t {\n  chain c {\n    jump d\n  }\n}\ntable ip t {\n  chain d {\n  }\n}\n'), ['3:undefined-reference']);
  assert.deepEqual(problems('table ip t {\n  chain c {\n    ip saddr @nope accept\n  }\n}\n'), ['3:undefined-reference']);
  assert.deepEqual(problems('table ip t {\n  chain c {\n    tcp dport vmap { 22 : jump nope }\n  }\n}\n'), ['3:undefined-reference']);
});

test('jumping to a base chain is refused (the kernel does)', () => {
  assert.deepEqual(problems('table ip t {\n  chain a {\n    type filter hook input priority 0;\n    jump b\n  }\n  chain b {\n    type filter hook forward priority 0;\n  }\n}\n'), ['4:invalid-value']);
});

test('priorities: numbers, names, name +/- offset, checked per hook', () => {
  ok('table ip t {\n  chain a {\n    type filter hook input priority -150;\n  }\n  chain b {\n    type filter hook input priority mangle + 5;\n  }\n  chain c {\n    type nat hook prerouting priority dstnat;\n  }\n}\n');
  assert.deepEqual(problems('table ip t {\n  chain c {\n    type filter hook input priority dstnat;\n  }\n}\n'), ['3:invalid-value']);
  assert.deepEqual(problems('table ip t {\n  chain c {\n    type filter hook input priority foo;\n  }\n}\n'), ['3:invalid-value']);
  assert.deepEqual(problems('table ip t {\n  chain c {\n    type nat hook forward priority 0;\n  }\n}\n'), ['3:invalid-value']);
  assert.deepEqual(problems('table inet t {\n  chain c {\n    type filter hook ingress priority 0;\n  }\n}\n'), ['3:invalid-value']);
});

test('a policy needs a base chain; twice is an error', () => {
  assert.deepEqual(problems('table ip t {\n  chain c {\n    policy drop;\n  }\n}\n'), ['3:invalid-value']);
  assert.deepEqual(problems('table ip t {\n  chain c {\n    type filter hook input priority 0; policy drop; policy accept;\n  }\n}\n'), ['3:syntax']);
});

test('line continuations and semicolons', () => {
  const text = 'table ip t {\n  chain c {\n    tcp dport 22 \\\n      accept; udp dport 53 accept\n  }\n}\n';
  ok(text);
  assert.deepEqual(rulesOf(text), ['tcp dport 22 accept', 'udp dport 53 accept']);
});

test('objects, flowtables and other statements parse', () => {
  ok([
    'table inet t {',
    '  counter hits { packets 0 bytes 0; }',
    '  quota q { over 10 mbytes; }',
    '  chain c {',
    '    counter name hits accept',
    '    log prefix "in: " level info flags all',
    '    limit rate over 10/second burst 5 packets drop',
    '    limit rate 1 mbytes/second accept',
    '    meta mark set 0x1 ct mark set meta mark',
    '    tcp flags & (syn | ack) == syn accept',
    '    tcp flags syn / syn,ack accept',
    '    ct state new,established accept',
    '    ip protocol . th dport vmap { tcp . 22 : accept, udp . 53 : accept }',
    '    fib daddr type local accept',
    '    meta l4proto { tcp, udp } th dport 53 accept',
    '    jump { tcp dport 80 accept; }',
    '    reject with icmpx type admin-prohibited',
    '  }',
    '  chain nat {',
    '    type nat hook postrouting priority srcnat;',
    '    oifname "eth0" masquerade',
    '  }',
    '}',
    '',
  ].join('\n'));
});

test('nft value errors: ports, prefixes, addresses, names', () => {
  const rule = (r: string, fam = 'inet') => `table ${fam} t {\n  chain c {\n    ${r}\n  }\n}\n`;
  const one = (r: string, fam?: string) => errors(rule(r, fam)).map((f) => `${f.code}: ${f.message}`);
  assert.match(one('tcp dport 70000 accept')[0], /invalid-value: Service out of range/);
  assert.match(one('tcp dport sssh accept')[0], /invalid-value: Could not resolve service/);
  assert.match(one('ip saddr 10.0.0.0/33 accept')[0], /invalid-value: Prefix length 33/);
  assert.match(one('ip saddr 10.0.0.300 accept')[0], /invalid-value/);
  assert.match(one('tcp dport 80-22 accept')[0], /Range has zero or negative size/);
  assert.match(one('ct state establshed accept')[0], /Could not parse conntrack state/);
  assert.match(one('icmp type echo accept')[0], /Could not parse ICMP type/);
  assert.match(one('ip protocol foo accept')[0], /Could not resolve protocol name/);
  assert.match(one('tcp dport 22,80 accept')[0], /not bitmask/);
  assert.match(one('ip6 saddr ::1 accept', 'ip')[0], /conflicting protocols specified: ip vs\. ip6/);
  assert.match(one('ip protocol udp tcp dport 22 accept')[0], /conflicting protocols specified/);
  assert.match(one('reject with icmpx type admin-prohibited', 'ip')[0], /abstracted ICMP unreachable not supported/);
  assert.match(one('iifname "abcdefghijklmnopq" accept')[0], /exceeds maximum length of 16/);
  assert.match(one('meta mark ! 0x1 accept')[0], /negation can only be used with singleton bitmask values/);
  assert.deepEqual(one('ct state ! established accept'), []);
});

test('sets: interval flag, types, overlaps, constants', () => {
  const t = (body: string) => `table ip t {\n${body}\n}\n`;
  assert.match(errors(t('  set s { type ipv4_addr; elements = { 10.0.0.0/8 } }'))[0].message, /flags interval/);
  assert.match(errors(t('  set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 10.1.0.0/16 } }'))[0].message, /conflicting intervals/);
  ok(t('  set s { type ipv4_addr; flags interval; auto-merge; elements = { 10.0.0.0/8, 10.1.0.0/16 } }'));
  assert.match(errors(t('  set s { type ipv4_addr; auto-merge; }'))[0].message, /auto-merge only works with interval sets/);
  assert.match(errors(t('  set s { type foo; }'))[0].message, /unknown datatype foo/);
  assert.match(errors(t('  set s { type integer; }'))[0].message, /unqualified type integer/);
  assert.match(errors(t('  set s { typeof tcp dport; }\n  chain c {\n    ip saddr @s accept\n  }'))[0].message, /datatype mismatch/);
  assert.match(errors(t('  set s { type inet_service; elements = { 22 } }\n  chain c {\n    tcp dport vmap @s\n  }'))[0].message, /not a map/);
  assert.match(errors(t('  chain c {\n    tcp dport vmap { 22 : accept, 20-30 : drop }\n  }'))[0].message, /conflicting intervals/);
  assert.match(errors(t('  chain c {\n    tcp dport { 22 : accept }\n  }'))[0].message, /mapping outside of map context/);
});

test('counter, quota, limit and ct helper blocks are read as nft reads them (each case as nft -c answers it: OK or the line of its error)', () => {
  const errLine = (text: string) => {
    const e = errors(text);
    return e.length ? `line ${e[0].range.start.line + 1}` : 'OK';
  };
  const cases: [string, string][] = [
    ['quota q { 10 mbytes; comment "x" }', 'OK'],
    ['quota q { }', 'OK'],
    ['quota q { 10 mbytes 20 mbytes }', 'OK'],
    ['quota q { 10 kbytes used 10240 bytes }', 'OK'],
    ['quota q { 10 kbytes used 10241 bytes }', 'line 2'], // Invalid argument: more used than the quota
    ['quota q { over  mbytes }', 'line 2'], // unexpected string, expecting number
    ['limit l { rate 10/second; comment "x"; }', 'OK'],
    ['limit l { }', 'line 2'], // Invalid argument
    ['limit l { rate 62/second9999 }', 'line 2'], // unexpected string
    ['limit l {  27/minute }', 'line 2'], // unexpected number
    ['limit l { rate  burst 5 packets }', 'line 2'], // unexpected burst, expecting number
    ['counter c { packets 1 bytes 2; comment "x" }', 'OK'],
    ['counter c { packets 1 }', 'line 2'], // unexpected '}', expecting bytes
    ['ct helper h { type "ftp" protocol tcp; comment "x" }', 'OK'],
    ['ct helper h { comment "x"; type "ftp" protocol tcp; l3proto inet; }', 'OK'],
    ['ct helper h { l3proto ip; }', 'line 2'], // Numerical result out of range: no type
    ['ct helper h { type "ftp" protocol tcp }', 'line 2'], // unexpected '}', expecting newline or semicolon
    ['ct helper h { type "ftp" protocol tcp l3proto ip }', 'line 2'],
    ['ct helper h { type ftp protocol tcp; }', 'line 2'], // expecting quoted string
    ['ct helper h { type "ftp" protocol sctp; }', 'line 2'], // expecting udp or tcp
    ['ct helper h { tyxe "ftp" protocol tcp; }', 'line 2'],
    ['ct helper h { type "ftp" tcp; }', 'line 2'], // expecting protocol
    // A block left open: nft fails on the next object's line, not at the chain after it.
    ['ct helper h {\n ct helper h2 { type "ftp" protocol tcp; }\n }\n chain c { }', 'line 3'],
  ];
  for (const [body, expected] of cases) assert.equal(errLine(`table ip t {\n ${body}\n}\n`), expected, body);
  // A quota statement using more than its size is refused too.
  assert.equal(errLine('table ip t {\n chain c {\n  quota 1 kbytes used 2 kbytes\n }\n}\n'), 'line 3');
});

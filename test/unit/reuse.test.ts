// The language server keeps a document's parse (iptables), lowered rules (nftables) and compiled
// sets from one version to the next. Whatever the edits, an analysis with those caches must be the
// one made from nothing: the same findings at the same places, the same rules with the same
// ranges, the same compiled sets.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { analyzeDocument, DocumentAnalysis, newReuse, Reuse } from '../../server/src/features/document';
import { allRules, Rule } from '../../server/src/model/policy';
import { generateIptables, generateNftables } from '../../bench/generate';

const EXAMPLES = join(__dirname, '../../examples');

/** iptables lines an edit may insert: clean rules, rules that fail only by where they are, bad lines. */
const IPTABLES_LINES = [
  '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
  '-A INPUT -s 10.0.0.0/8 -j DROP',
  '-A INPUT -i wg0 -j ACCEPT', // a new interface name renumbers the interface dimension
  '-A INPUT -i eth+ -p udp --dport 53 -j ACCEPT',
  '-A INPUT -j NEWCHAIN', // undefined until its declaration is inserted
  ':NEWCHAIN - [0:0]',
  '-A NEWCHAIN -s 192.0.2.0/24 -j RETURN',
  '-A INPUT -s 192.0.2.1/24 -j ACCEPT', // host bits
  '-A INPUT -s 10.0.0.1,10.0.0.2 -p tcp --dport 80 -j ACCEPT',
  '-I INPUT 2 -s 203.0.113.0/24 -j ACCEPT', // may split the multi-address line
  '-A INPUT -p tcp --dport 99999 -j ACCEPT', // invalid value
  '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
  '-A INPUT -j LOG --log-prefix "x "',
  '-A INPUT -s 2001:db8::/32 -j ACCEPT', // the other family
  '[5:300] -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT',
  '-A INPUT -j DROP',
  'COMMIT',
  '*filter',
];

/**
 * nftables lines: rules whose meaning is their own text, and rules whose meaning depends on
 * something elsewhere that another edit may add, change or remove (a define, a set, a chain, a
 * named object), in a block or as a command, in another table of another family.
 */
const NFTABLES_LINES = [
  '    tcp dport 22 accept',
  '    ip saddr 10.0.0.0/8 drop',
  '    iifname "wg0" accept',
  '    ip saddr $LAN tcp dport 80 accept',
  'define LAN = 10.1.0.0/16',
  'redefine LAN = 10.2.0.0/16',
  'define ADMIN = { 10.3.0.1, 10.3.0.2 }',
  '    ip saddr $ADMIN tcp dport 22 accept',
  'define NETS = { $LAN, 10.4.0.0/16 }', // a define naming another
  '    ip saddr $NETS udp dport 53 accept',
  '    jump extra',
  '  chain extra {',
  '    ip saddr 192.0.2.0/24 return',
  '  }',
  '    ip saddr 192.0.2.1/24 accept', // host bits: reported, so never kept
  '    tcp dport 99999 accept', // invalid value
  '    ip saddr @blocked drop',
  '  set blocked { type ipv4_addr; flags interval; elements = { 198.51.100.0/24 } }',
  '    ip saddr @blocked add @seen { ip saddr }',
  '  set seen { type ipv4_addr; }',
  '    tcp dport vmap { 80 : accept, 23 : drop, 25 : jump extra }',
  '    tcp dport 2 jump { udp dport 3 accept; drop; }',
  '    ip6 saddr 2001:db8::/32 accept', // the other family
  '    counter name "c1" accept',
  '  counter c1 { }',
  '    ct state established,related accept',
  '    tcp dport { 22,\n      80, 443 } accept', // one rule on two lines
  '    drop',
  '    meta l4proto tcp tcp dport 22 accept comment "ssh"',
  'table ip other { chain input { type filter hook input priority 0; tcp dport 22 accept; } }',
  'add rule inet filter input tcp dport 22 accept', // the same rule at another column
  'delete chain inet filter extra',
  '}',
  // The same rule with what may follow it on its line: the parser skips only a rule alone on it.
  '    tcp dport 22 accept # a comment',
  '    tcp dport 22 accept ',
  '    tcp dport 22 accept; udp dport 53 accept',
  'tcp dport 22 accept',
  '    tcp dport 22 accept\r',
  '    tcp dport 22 \\\n      accept', // continued on the next line
  '    tcp\r dport 22 accept', // a carriage return inside: reported once, where the first one is
  '    limit rate 0/second accept', // a problem found while parsing, not while lowering
];

interface Format {
  lines: string[];
  /** The line with its (first) destination port set to `port`. */
  port: (line: string, port: number) => string;
}

const IPTABLES: Format = { lines: IPTABLES_LINES, port: (l, p) => l.replace(/--dport \d+/, `--dport ${p}`) };
const NFTABLES: Format = { lines: NFTABLES_LINES, port: (l, p) => l.replace(/dport \d+/, `dport ${p}`) };

type Edit =
  | { kind: 'insert'; at: number; line: number }
  | { kind: 'delete'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'port'; at: number; port: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), line: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('port' as const), at: fc.nat(), port: fc.integer({ min: 1, max: 65535 }) }),
);

function apply(format: Format, lines: string[], e: Edit): string[] {
  const out = lines.slice();
  const at = out.length ? e.at % out.length : 0;
  switch (e.kind) {
    case 'insert': out.splice(at, 0, format.lines[e.line % format.lines.length]); break;
    case 'delete': out.splice(at, 1); break;
    case 'duplicate': out.splice(at, 0, out[at] ?? ''); break;
    case 'swap': { const b = e.with % Math.max(1, out.length); [out[at], out[b]] = [out[b], out[at]]; break; }
    case 'port': out[at] = format.port(out[at] ?? '', e.port); break;
  }
  return out;
}

/** Everything a feature reads of an analysis, as comparable text (bigints and Maps included). */
function snapshot(a: DocumentAnalysis | { error: string }): string {
  if ('error' in a) return a.error;
  const rules = allRules(a.policy);
  return JSON.stringify({
    findings: a.findings,
    tables: a.policy.tables.map((t) => ({ ...t, chains: [...t.chains.values()] })),
    sets: rules.map((r) => a.analysis.compiled.sets.get(r)),
  }, (k, v) => (k === 'key' ? undefined : typeof v === 'bigint' ? `${v}n` : v)); // keys exist only with the caches
}

function same(text: string, reuse: Reuse, fileName: string): void {
  const fresh = snapshot(analyzeDocument(text, { fileName }));
  const cached = snapshot(analyzeDocument(text, { fileName, reuse }));
  if (cached === fresh) return;
  let i = 0;
  while (cached[i] === fresh[i]) i++;
  assert.fail(`the cached analysis differs at character ${i}:\n  cached: …${cached.slice(i - 200, i + 200)}\n  fresh:  …${fresh.slice(i - 200, i + 200)}`);
}

for (const name of ['outage.rules', 'good-server.rules', 'mistakes.rules', 'router.nft']) {
  const format = name.endsWith('.nft') ? NFTABLES : IPTABLES;
  test(`analysis with the caches equals analysis from nothing after random edits to ${name}`, () => {
    const start = readFileSync(join(EXAMPLES, name), 'utf8').split('\n');
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 12 }), (edits) => {
      const reuse = newReuse();
      let lines = start;
      same(lines.join('\n'), reuse, name);
      for (const e of edits) {
        lines = apply(format, lines, e);
        same(lines.join('\n'), reuse, name);
      }
    }), { numRuns: format === NFTABLES ? 400 : 60, seed: 20261124 });
  });
}

for (const [name, format, text] of [['big.rules', IPTABLES, generateIptables(2_000, 3)], ['big.nft', NFTABLES, generateNftables(2_000, 3)]] as const) {
  test(`the caches follow a large file (${name}) through edits that move every line below them`, () => {
    const reuse = newReuse();
    let cur = text.split('\n');
    same(cur.join('\n'), reuse, name);
    const edits: Edit[] = [
      { kind: 'insert', at: 40, line: 0 },
      { kind: 'port', at: 900, port: 8081 },
      { kind: 'delete', at: 10 },
      { kind: 'insert', at: 500, line: 2 },
      { kind: 'insert', at: 5, line: 4 },
      { kind: 'insert', at: 6, line: 5 },
      { kind: 'duplicate', at: 1200 },
      { kind: 'swap', at: 300, with: 1700 },
    ];
    for (const e of edits) {
      cur = apply(format, cur, e);
      same(cur.join('\n'), reuse, name);
    }
  });
}

/**
 * An example analysed twice with one cache, the second time with a comment line on top: each rule
 * of the second analysis with its counterpart in the first (every one of them one line lower).
 */
function movedOneLineDown(example: string, fileName: string): { rule: Rule; was: Rule; sets: unknown; setsWere: unknown }[] {
  const reuse = newReuse();
  const text = readFileSync(join(EXAMPLES, example), 'utf8');
  const first = analyzeDocument(text, { fileName, reuse }) as DocumentAnalysis;
  const second = analyzeDocument(`# a comment on top\n${text}`, { fileName, reuse }) as DocumentAnalysis;
  const r1 = allRules(first.policy);
  const r2 = allRules(second.policy);
  assert.ok(r1.length > 3);
  assert.equal(r2.length, r1.length);
  return r2.map((rule, i) => {
    assert.equal(rule.range.start.line, r1[i].range.start.line + 1, 'moved one line down');
    return { rule, was: r1[i], sets: second.analysis.compiled.sets.get(rule), setsWere: first.analysis.compiled.sets.get(r1[i]) };
  });
}

test('a line moved by an edit above it keeps its compiled sets (the same object, not a copy)', () => {
  for (const { sets, setsWere } of movedOneLineDown('good-server.rules', 'a.rules')) assert.equal(sets, setsWere, 'the same compiled sets, not a copy');
});

test('an nftables rule moved by an edit above it is lowered once, and keeps its compiled sets', () => {
  let kept = 0;
  for (const { rule, was, sets, setsWere } of movedOneLineDown('router.nft', 'a.nft')) {
    // Rules naming a set or a chain are lowered again; the others are kept, but those naming a
    // variable only while its define stays where it is (here it moved with the comment).
    const dependent = /@|jump|goto/.test(was.text);
    assert.equal(rule.key !== undefined, !dependent, `kept or not: ${was.text}`);
    if (dependent) continue;
    if (/\$/.test(was.text)) {
      assert.notEqual(sets, setsWere, `lowered again, its define moved: ${was.text}`);
      continue;
    }
    kept++;
    assert.equal(sets, setsWere, 'the same compiled sets, not a copy');
  }
  assert.ok(kept >= 5, `only ${kept} rules kept`);
});

test('an nftables rule is lowered again when what it names elsewhere changes', () => {
  const base = [
    'define LAN = 10.1.0.0/16',
    'define NETS = { $LAN, 10.4.0.0/16 }',
    'define PAIRS = { 10.5.0.1 . 22, 10.5.0.2 . 80 }',
    'table inet filter {',
    '  counter c1 { }',
    '  set blocked { type ipv4_addr; elements = { 198.51.100.1 } }',
    '  chain extra {',
    '    ip saddr 192.0.2.0/24 return',
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    jump extra',
    '    counter name "c1" accept',
    '    ip saddr @blocked drop',
    '    ip saddr $LAN accept',
    '    ip saddr $NETS udp dport 53 accept',
    '    ip saddr . tcp dport $PAIRS accept', // its conditions' ranges are in the define
    '    tcp dport 2 jump { udp dport 3 accept; drop; }',
    '  }',
    '}',
  ];
  // Each change is elsewhere than the rule that depends on it; the rule's own line stays as it is.
  const changes: [string, (lines: string[]) => string[]][] = [
    ['the jump target is removed', (l) => l.map((x, i) => (i >= 4 && i <= 6 ? '' : x))],
    ['the jump target becomes a base chain', (l) => l.map((x, i) => (i === 5 ? '    type filter hook input priority 0;' : x))],
    ['the named counter is removed', (l) => l.map((x) => (x === '  counter c1 { }' ? '' : x))],
    ['the set gets another element', (l) => l.map((x) => x.replace('198.51.100.1', '203.0.113.9'))],
    ['the set is removed', (l) => l.map((x) => (x.startsWith('  set blocked') ? '' : x))],
    ['the define changes (and so the define naming it)', (l) => l.map((x) => x.replace('10.1.0.0/16', '10.9.0.0/16'))],
    ['the defines are removed', (l) => l.map((x) => (x.startsWith('define') ? '' : x))],
    ['the rules move, their defines stay', (l) => l.map((x) => (x === 'table inet filter {' ? `\n${x}` : x))],
    ['a define moves, its value stays', (l) => ['', ...l.filter((x) => x.startsWith('define')), ...l.filter((x) => !x.startsWith('define'))]],
    ['the anonymous chain moves down a line', (l) => ['', ...l]],
    ['the table becomes an ip table', (l) => l.map((x) => x.replace('table inet', 'table ip'))],
    // Not a dependency, but the same text at another column: its ranges are not the kept ones moved.
    ['a rule is repeated at another column', (l) => [...l, 'add rule inet filter input ip saddr 192.0.2.0/24 return']],
    ['a rule is repeated with another indent', (l) => l.map((x) => (x === '    jump extra' ? '        ip saddr 192.0.2.0/24 return' : x))],
  ];
  for (const [what, change] of changes) {
    const reuse = newReuse();
    same(base.join('\n'), reuse, 'dep.nft');
    const changed = change(base);
    try {
      same(changed.join('\n'), reuse, 'dep.nft');
      same(base.join('\n'), reuse, 'dep.nft');
    } catch (e) {
      assert.fail(`${what}: ${(e as Error).message}`);
    }
  }
});

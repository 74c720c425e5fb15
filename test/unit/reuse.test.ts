// The language server keeps a document's parse and compiled sets from one version to the next.
// Whatever the edits, an analysis with those caches must be the one made from nothing: the same
// findings at the same places, the same rules with the same ranges, the same compiled sets.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { analyzeDocument, DocumentAnalysis, newReuse, Reuse } from '../../server/src/features/document';
import { allRules } from '../../server/src/model/policy';
import { generateIptables } from '../../bench/generate';

const EXAMPLES = join(__dirname, '../../examples');

/** Lines an edit may insert: clean rules, rules that fail only by where they are, bad lines. */
const NEW_LINES = [
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

type Edit =
  | { kind: 'insert'; at: number; line: number }
  | { kind: 'delete'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'port'; at: number; port: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), line: fc.nat(NEW_LINES.length - 1) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('port' as const), at: fc.nat(), port: fc.integer({ min: 1, max: 65535 }) }),
);

function apply(lines: string[], e: Edit): string[] {
  const out = lines.slice();
  const at = out.length ? e.at % out.length : 0;
  switch (e.kind) {
    case 'insert': out.splice(at, 0, NEW_LINES[e.line]); break;
    case 'delete': out.splice(at, 1); break;
    case 'duplicate': out.splice(at, 0, out[at] ?? ''); break;
    case 'swap': { const b = e.with % Math.max(1, out.length); [out[at], out[b]] = [out[b], out[at]]; break; }
    case 'port': out[at] = (out[at] ?? '').replace(/--dport \d+/, `--dport ${e.port}`); break;
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

for (const name of ['outage.rules', 'good-server.rules', 'mistakes.rules']) {
  test(`analysis with the caches equals analysis from nothing after random edits to ${name}`, () => {
    const start = readFileSync(join(EXAMPLES, name), 'utf8').split('\n');
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 12 }), (edits) => {
      const reuse = newReuse();
      let lines = start;
      same(lines.join('\n'), reuse, name);
      for (const e of edits) {
        lines = apply(lines, e);
        same(lines.join('\n'), reuse, name);
      }
    }), { numRuns: 60, seed: 20261124 });
  });
}

test('the caches follow a large file through edits that move every line below them', () => {
  const lines = generateIptables(2_000, 3).split('\n');
  const reuse = newReuse();
  let cur = lines;
  same(cur.join('\n'), reuse, 'big.rules');
  const edits: Edit[] = [
    { kind: 'insert', at: 40, line: 0 },
    { kind: 'port', at: 900, port: 8081 },
    { kind: 'delete', at: 10 },
    { kind: 'insert', at: 500, line: 2 },
    { kind: 'insert', at: 5, line: 4 },
    { kind: 'insert', at: 6, line: 5 },
  ];
  for (const e of edits) {
    cur = apply(cur, e);
    same(cur.join('\n'), reuse, 'big.rules');
  }
});

test('a line moved by an edit above it keeps its compiled sets (the same object, not a copy)', () => {
  const reuse = newReuse();
  const text = readFileSync(join(EXAMPLES, 'good-server.rules'), 'utf8');
  const first = analyzeDocument(text, { fileName: 'a.rules', reuse }) as DocumentAnalysis;
  const second = analyzeDocument(`# a comment on top\n${text}`, { fileName: 'a.rules', reuse }) as DocumentAnalysis;
  const r1 = allRules(first.policy);
  const r2 = allRules(second.policy);
  assert.ok(r1.length > 3);
  assert.equal(r2.length, r1.length);
  for (let i = 0; i < r1.length; i++) {
    assert.equal(r2[i].range.start.line, r1[i].range.start.line + 1, 'moved one line down');
    assert.equal(second.analysis.compiled.sets.get(r2[i]), first.analysis.compiled.sets.get(r1[i]), 'the same compiled sets, not a copy');
  }
});

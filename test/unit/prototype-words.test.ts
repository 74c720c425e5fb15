// Words from a user's file index many name tables (services, protocols, keywords, units, ICMP
// types). A plain object answers `constructor` or `toString` from Object.prototype, and the
// analysis once threw on `tcp dport toString`. Every word of the examples, replaced by each such
// name, must give findings, never an exception.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeDocument } from '../../server/src/features/document';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'propertyIsEnumerable', 'toLocaleString'];
const ROOT = join(__dirname, '../..');

for (const [file, language] of [['examples/router.nft', 'nftables'], ['test/lsp/fixtures/outage.nft', 'nftables'], ['examples/good-server.rules', 'iptables'], ['examples/mistakes.rules', 'iptables']] as const) {
  test(`every word of ${file} replaced by an Object.prototype name is analysed without an exception`, () => {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    let runs = 0;
    const failures: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const parts = lines[i].split(/(\s+|[{},;:./=])/);
      for (let w = 0; w < parts.length; w++) {
        if (!/^[A-Za-z0-9_-]+$/.test(parts[w])) continue;
        for (const name of PROTOTYPE_NAMES) {
          const line = [...parts.slice(0, w), name, ...parts.slice(w + 1)].join('');
          runs++;
          try {
            const doc = analyzeDocument([...lines.slice(0, i), line, ...lines.slice(i + 1)].join('\n'), { language });
            assert.ok(!('error' in doc));
          } catch (e) {
            if (failures.length < 5) failures.push(`line ${i + 1} as "${line.trim()}": ${(e as Error).message}`);
          }
        }
      }
    }
    assert.ok(runs > 500, `${runs} variants`);
    assert.deepEqual(failures, []);
  });
}

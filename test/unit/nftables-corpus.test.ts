// Every nftables file of the shared corpus is accepted by `nft -c -f`: loading it must give no
// syntax, undefined-reference or invalid-value finding. Skipped where the corpus is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadNftables } from '../../server/src/syntax/nftables/lower';

const dir = path.join(process.env.FWLENS_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus'), 'nftables');

test('the nftables corpus loads without false errors', (t) => {
  if (!existsSync(dir)) {
    t.skip(`no corpus at ${dir}`);
    return;
  }
  const files = readdirSync(dir).filter((f) => !f.startsWith('.')).sort();
  assert.ok(files.length > 0, 'the corpus folder has files');
  for (const f of files) {
    const file = path.join(dir, f);
    const r = loadNftables(readFileSync(file, 'utf8'), { path: file, readFile: (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined) });
    const bad = r.findings.filter((x) => x.code === 'syntax' || x.code === 'undefined-reference' || x.code === 'invalid-value');
    assert.deepEqual(bad.map((x) => `${f}:${x.range.start.line + 1}: ${x.code}: ${x.message}`), [], f);
    // Every base chain of the file became a chain of the model.
    assert.ok(r.policy.tables.length > 0, `${f} has tables`);
    assert.ok(r.policy.entries.length > 0, `${f} has entries`);
  }
});

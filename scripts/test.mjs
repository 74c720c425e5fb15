// Runs every test suite with node's test runner. Suites that need root, the kernel, a browser or
// code-server skip themselves with a message where those are missing.
// Usage: node scripts/test.mjs [unit|grammar|parse-diff|kernel|lsp|editor ...]  (default: all)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const suites = ['unit', 'grammar', 'parse-diff', 'kernel', 'lsp', 'editor'];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : suites;
const files = [];
for (const s of wanted) {
  const dir = join('test', s);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(join(dir, f));
}
if (!files.length) {
  console.error('no test files found');
  process.exit(1);
}
// One process per file (the default), two at a time: the kernel and editor suites are heavy.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);

// `npm run package`: a production build (scripts/build.mjs --production: esbuild bundles the client
// and the server into one file each), then `vsce package --no-dependencies` into a .vsix, then a check
// of what went into it (.vscodeignore) and of its size (under 2 MB).
//
// It builds in a scratch copy of the manifest and assets, never in dist/: the dev build there (with
// source maps) stays as it was, and tests that run dist/server.js meanwhile are not disturbed.
// Usage: node scripts/package.mjs [--out FILE.vsix]     (default: ./<name>-<version>.vsix)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_BYTES = 2 * 1024 * 1024;
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(outIdx >= 0 ? args[outIdx + 1] : join(root, `${pkg.name}-${pkg.version}.vsix`));

function fail(msg) {
  console.error(`package: ${msg}`);
  process.exit(1);
}

if (!pkg.contributes?.languages?.length || !pkg.contributes?.grammars?.length) {
  fail('package.json has no contributes.languages/grammars: merge client/package.contributes.json into it first');
}

let vsce;
try {
  const require = createRequire(join(root, 'package.json'));
  const vscePkgPath = require.resolve('@vscode/vsce/package.json');
  const vscePkg = JSON.parse(readFileSync(vscePkgPath, 'utf8'));
  vsce = join(dirname(vscePkgPath), typeof vscePkg.bin === 'string' ? vscePkg.bin : vscePkg.bin.vsce);
} catch {
  fail('@vscode/vsce is not installed (npm install --save-dev @vscode/vsce)');
}

const stage = mkdtempSync(join(tmpdir(), 'fwlens-vsix-'));
try {
  // The sources, by link (esbuild resolves node_modules from the real paths), and the assets, by copy.
  for (const d of ['server', 'client']) symlinkSync(join(root, d), join(stage, d), 'dir');
  const assets = ['package.json', '.vscodeignore', 'syntaxes', 'images', 'README.md', 'CHANGELOG.md', 'LICENSE', 'LICENSE.md', 'LICENSE.txt',
    ...readdirSync(root).filter((f) => /^language-configuration.*\.json$/.test(f))];
  for (const a of assets) if (existsSync(join(root, a))) cpSync(join(root, a), join(stage, a), { recursive: true });

  const b = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--production'], { cwd: stage, stdio: 'inherit' });
  if (b.status !== 0) fail('the production build failed');
  for (const f of ['dist/extension.js', 'dist/server.js']) if (!existsSync(join(stage, f))) fail(`${f} is missing after the build`);
  for (const d of ['server', 'client']) rmSync(join(stage, d));

  mkdirSync(dirname(out), { recursive: true });
  const r = spawnSync(process.execPath, [
    vsce, 'package',
    '--no-dependencies', // esbuild bundled everything: node_modules stays out
    '--no-rewrite-relative-links', // no repository URL to rewrite README links against
    '--allow-missing-repository',
    '--skip-license',
    '--out', out,
  ], { cwd: stage, stdio: ['ignore', 'inherit', 'inherit'] }); // no stdin: vsce can never wait for an answer
  if (r.status !== 0) fail(`vsce package failed (exit ${r.status})`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

const size = statSync(out).size;
const listing = spawnSync('unzip', ['-l', out], { encoding: 'utf8' });
if (listing.status === 0) process.stdout.write(listing.stdout);
else console.log('(unzip is not installed: the listing above is vsce\'s)');
const names = listing.status === 0 ? listing.stdout : '';
for (const forbidden of ['extension/node_modules/', 'extension/server/', 'extension/client/', 'extension/test/', 'extension/examples/', 'extension/bench/', 'extension/scripts/', '.map']) {
  if (names.includes(forbidden)) fail(`${forbidden} must not be in the .vsix (see .vscodeignore)`);
}
console.log(`package: ${relative(process.cwd(), out) || out}: ${(size / 1024).toFixed(1)} KiB`);
if (size >= MAX_BYTES) fail(`the .vsix is ${size} bytes, over the 2 MB limit`);

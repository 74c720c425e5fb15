// Bundles the CLI, the language server and the VS Code client into one file each (dist/).
import { build } from 'esbuild';
import { existsSync, chmodSync, readFileSync } from 'node:fs';

const production = process.argv.includes('--production');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

const entries = [
  { in: 'server/src/cli.ts', out: 'dist/cli.js', exec: true },
  { in: 'server/src/server.ts', out: 'dist/server.js', exec: true },
  { in: 'client/src/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
];

for (const e of entries) {
  if (!existsSync(e.in)) continue;
  await build({
    ...common,
    entryPoints: [e.in],
    outfile: e.out,
    external: e.external ?? [],
    // Executables need a '#!' line; esbuild keeps the entry's own if it has one.
    banner: e.exec && !readFileSync(e.in, 'utf8').startsWith('#!') ? { js: '#!/usr/bin/env node' } : undefined,
  });
  if (e.exec) chmodSync(e.out, 0o755);
}

// Another editor: Neovim (Debian's, headless) attaches fwlens-language-server --stdio, opens the
// outage example and reports the diagnostics and a hover. The server must be a good citizen of the
// protocol, not only of VS Code. Skipped when nvim is not installed.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT, SERVER } from './lsp-client';

const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
const missing = nvim.error || nvim.status !== 0 ? 'nvim is not on PATH (Debian package neovim): the Neovim test is skipped' : undefined;

it('Neovim gets the catch-all error and a hover from the server', { skip: missing, timeout: 60_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fwlens-nvim-'));
  try {
    const out = path.join(dir, 'result.json');
    const file = path.join(ROOT, 'examples', 'outage.rules');
    const r = spawnSync('nvim', ['--headless', '--clean', '-n', '-i', 'NONE', '-c', `luafile ${path.join(__dirname, 'neovim-init.lua')}`], {
      cwd: ROOT,
      env: { ...process.env, FWLENS_SERVER: SERVER, FWLENS_FILE: file, FWLENS_OUT: out, XDG_STATE_HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      encoding: 'utf8',
      timeout: 50_000,
    });
    let result: { waited?: boolean; error?: string; diagnostics: { lnum: number; severity: number; message: string; source: string; code?: string }[]; hover?: string; hoverLine?: number };
    try {
      result = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      assert.fail(`nvim wrote no result (exit ${r.status}, signal ${r.signal})\n${r.stdout}\n${r.stderr}`);
    }
    process.stdout.write(`# neovim ${nvim.stdout.split('\n')[0]}: ${JSON.stringify(result)}\n`);
    assert.equal(result.error, undefined);
    assert.ok(result.waited, 'diagnostics arrived');
    const lines = readFileSync(file, 'utf8').split('\n');
    const dropLine = lines.findIndex((l) => l.includes('-A INPUT -s 0.0.0.0/0'));
    const d = result.diagnostics.find((x) => x.lnum === dropLine && x.severity === 1);
    assert.ok(d, JSON.stringify(result.diagnostics));
    assert.match(d.message, /Catch-all DROP/);
    assert.equal(d.source, 'fwlens');
    assert.equal(result.hoverLine, dropLine);
    assert.match(result.hover ?? '', /DROP/);
    assert.match(result.hover ?? '', /4,294,967,296 addresses/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

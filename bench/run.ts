// npm run bench: the performance figures of the issues, each next to a baseline measured in the
// same run on the same file (iptables-restore --test, nft -c -f), with peak memory and growth.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateIptables, generateNftables } from './generate';

const CLI = resolve(__dirname, '../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'fwlens-bench-'));
const isRoot = process.getuid?.() === 0;
const quick = process.argv.includes('--quick');

interface Timing { ms: number; peakMb?: number; code: number | null }

function run(cmd: string, args: string[]): Timing {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /peak memory ([\d.]+) MB/.exec(r.stderr ?? '');
  return { ms, peakMb: m ? Number(m[1]) : undefined, code: r.status };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Runs each command `n` times, taking turns, and keeps the median of each: a busy spell of the
 * machine then slows both sides of a ratio alike instead of only one of them.
 */
function interleaved(n: number, fs: (() => Timing)[]): Timing[] {
  const runs: Timing[][] = fs.map(() => []);
  for (let i = 0; i < n; i++) fs.forEach((f, k) => runs[k].push(f()));
  return runs.map((rs) => ({ ms: median(rs.map((r) => r.ms)), peakMb: Math.max(...rs.map((r) => r.peakMb ?? 0)), code: rs[0].code }));
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => String(c).padStart(i === 0 ? 8 : 14)).join(' ');
}

function benchFormat(name: string, sizes: number[], write: (n: number) => string, baseline: ((file: string) => Timing) | undefined, baselineName: string): void {
  console.log(`\n== ${name}: fwlens check (whole process, full analysis) vs ${baselineName}`);
  console.log(row(['rules', 'fwlens ms', `${baselineName.split(' ')[0]} ms`, 'ratio', 'peak MB']));
  const times = new Map<number, number>();
  for (const n of sizes) {
    const file = write(n);
    const reps = n >= 100_000 ? 1 : 9;
    const check = () => run(process.execPath, [CLI, 'check', '--stats', '--fail-on', 'error', file]);
    const [ours, base] = interleaved(reps, baseline ? [check, () => baseline(file)] : [check]);
    times.set(n, ours.ms);
    console.log(row([n, ours.ms.toFixed(0), base ? base.ms.toFixed(0) : 'n/a', base ? (ours.ms / base.ms).toFixed(2) + 'x' : 'n/a', (ours.peakMb ?? 0).toFixed(0)]));
  }
  const a = times.get(10_000);
  const b = times.get(100_000);
  if (a && b) console.log(`growth exponent 10k→100k: ${(Math.log(b / a) / Math.log(10)).toFixed(2)} (1.00 is linear; n log n is about 1.1)`);
}

if (!existsSync(CLI)) {
  console.error('dist/cli.js is missing: run npm run build first');
  process.exit(2);
}

const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];

benchFormat('iptables', sizes, (n) => {
  const f = join(dir, `bench-${n}.rules`);
  writeFileSync(f, generateIptables(n));
  return f;
}, isRoot && has('iptables-restore') ? (f) => run('unshare', ['-n', 'sh', '-c', `iptables-restore --test < '${f}'`]) : undefined, 'iptables-restore --test');

benchFormat('nftables', quick ? [1_000, 10_000] : [1_000, 10_000], (n) => {
  const f = join(dir, `bench-${n}.nft`);
  writeFileSync(f, generateNftables(n));
  return f;
}, isRoot && has('nft') ? (f) => run('unshare', ['-n', 'nft', '-c', '-f', f]) : undefined, 'nft -c -f');

// The language server's figures (issue 3), when its benchmark is present.
const lspBench = resolve(__dirname, '../test/lsp/bench-lsp.ts');
if (existsSync(lspBench) && existsSync(resolve(__dirname, '../dist/server.js'))) {
  const files = { iptables: join(dir, 'lsp-10000.rules'), nftables: join(dir, 'lsp-10000.nft') };
  writeFileSync(files.iptables, generateIptables(10_000));
  writeFileSync(files.nftables, generateNftables(10_000));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { benchLsp } = require(lspBench) as { benchLsp: (file: string, language: string) => Promise<Record<string, number>> };
  void (async () => {
    for (const [language, f] of Object.entries(files)) {
      const r = await benchLsp(f, language);
      console.log(`\n== language server on 10k ${language} rules (targets: diagnostics after an edit < 150 ms, hover p95 < 50 ms, < 300 MB)`);
      for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(28)} ${v.toFixed(1)}`);
    }
  })();
}

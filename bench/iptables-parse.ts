// Parsing + lowering of an iptables-save file, measured the way the CLI meets it: a cold process
// (one run per process, many processes, the median), a warm figure (rounds 2-5 in one process) and
// the bytes allocated by one cold run (sampling heap profiler, collected objects included).
//   node --import tsx bench/iptables-parse.ts FILE [processes=15]
// The measured code is bundled with esbuild first, as dist/cli.js is.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

const CHILD = `
const { readFileSync } = require('node:fs');
const { Session } = require('node:inspector');
const { loadIptables } = require(${JSON.stringify(resolve(__dirname, '../server/src/syntax/iptables/lower.ts'))});
const [file, mode] = process.argv.slice(2);
const text = readFileSync(file, 'utf8');
if (mode === 'time') {
  const times = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    loadIptables(text);
    times.push(performance.now() - t0);
  }
  console.log(JSON.stringify(times));
} else {
  const s = new Session();
  s.connect();
  const post = (m, p) => new Promise((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))));
  (async () => {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    loadIptables(text);
    const { profile } = await post('HeapProfiler.stopSampling');
    let bytes = 0;
    const walk = (n) => { bytes += n.selfSize; n.children.forEach(walk); };
    walk(profile.head);
    console.log(JSON.stringify(bytes / 1e6));
  })();
}
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function runChild(bundle: string, file: string, mode: string): unknown {
  const r = spawnSync(process.execPath, [bundle, file, mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const file = process.argv[2];
const processes = Number(process.argv[3] ?? 15);
if (!file) throw new Error('usage: bench/iptables-parse.ts FILE [processes]');
const dir = mkdtempSync(join(tmpdir(), 'fwlens-parse-'));
const entry = join(dir, 'entry.js');
const bundle = join(dir, 'bundle.js');
writeFileSync(entry, CHILD);
buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node18', outfile: bundle, logLevel: 'warning' });

const cold: number[] = [];
const warm: number[] = [];
const mb: number[] = [];
for (let i = 0; i < processes; i++) {
  const times = runChild(bundle, file, 'time') as number[];
  cold.push(times[0]);
  warm.push(median(times.slice(1)));
  if (i < 5) mb.push(runChild(bundle, file, 'alloc') as number);
}
const lines = readFileSync(file, 'utf8').split('\n').length;
console.log(`${file} (${lines} lines), ${processes} processes`);
console.log(`cold ms  median ${median(cold).toFixed(1)}  (min ${Math.min(...cold).toFixed(1)}, max ${Math.max(...cold).toFixed(1)})`);
console.log(`warm ms  median ${median(warm).toFixed(1)}`);
console.log(`alloc MB median ${median(mb).toFixed(1)}  (${mb.map((x) => x.toFixed(1)).join(' ')})`);

// Times analyzePolicy (compile + anomaly checks) alone, so that changes to the analysis can be
// compared without parsing and output in the way. Bundle it first (the CLI is bundled too):
//   npx esbuild bench/analyze.ts --bundle --platform=node --outfile=/tmp/analyze.js
//   node /tmp/analyze.js FILE [cold|warm|alloc]
// cold: one analysis in a fresh process: wall, main-thread CPU and GC ms (run many processes, take medians);
// warm: rounds 2-5 in one process; alloc: MB allocated by one cold analysis (sampled, stable);
// alloc-by: the same, by allocating function; none: the file loaded, no analysis; alloc-warm: MB of a second analysis in one process.
import { existsSync, readFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { loadIptables } from '../server/src/syntax/iptables/lower';
import { loadNftables } from '../server/src/syntax/nftables/lower';
import { analyzePolicy } from '../server/src/analysis/analyze';
import type { Policy } from '../server/src/model/policy';

const [file, mode = 'cold'] = process.argv.slice(2);
const text = readFileSync(file, 'utf8');
const policy: Policy = /\.(nft|conf)$/.test(file) ? loadNftables(text).policy : loadIptables(text).policy;

/** CPU time of this thread in ms (Linux), which other processes on the machine disturb less than the clock. */
function threadCpuMs(): number {
  return existsSync('/proc/thread-self/schedstat') ? Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6 : NaN;
}

/** Wall-clock ms of one analysis; `cpu` gets the main thread's CPU ms. */
function timeOnce(cpu?: number[]): number {
  const c0 = threadCpuMs();
  const t0 = process.hrtime.bigint();
  analyzePolicy(policy);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  cpu?.push(threadCpuMs() - c0);
  return ms;
}

interface SampleNode { selfSize: number; children: SampleNode[]; callFrame: { functionName: string; lineNumber: number } }

function totalSelf(n: SampleNode): number {
  return n.children.reduce((s, c) => s + totalSelf(c), n.selfSize);
}

/** Allocated bytes by the allocating function (for `alloc-by`). */
function byFunction(n: SampleNode, out: Map<string, number>, callers: string[] = []): Map<string, number> {
  const name = `${n.callFrame.functionName || '(anon)'}:${n.callFrame.lineNumber}`;
  // Built-ins (line -1) are named with their caller, which is what one can change.
  const k = n.callFrame.lineNumber < 0 && callers.length ? `${name} < ${callers[callers.length - 1]}` : name;
  out.set(k, (out.get(k) ?? 0) + n.selfSize);
  for (const c of n.children) byFunction(c, out, [...callers, name]);
  return out;
}

if (mode === 'none') {
  // Loads the file only: what a cold run costs besides the analysis (for instruction counts).
} else if (mode === 'cold') {
  // Also the garbage collector's share of it (entries arrive after the run, so wait a turn).
  let gcMs = 0;
  let start = Infinity;
  let end = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.startTime >= start && e.startTime <= end) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const cpu: number[] = [];
  start = performance.now();
  const ms = timeOnce(cpu);
  end = performance.now();
  setTimeout(() => {
    gc.disconnect();
    console.log(ms.toFixed(1), cpu[0].toFixed(1), gcMs.toFixed(1));
  }, 20);
}
else if (mode === 'warm') {
  timeOnce();
  const rounds = [2, 3, 4, 5].map(() => timeOnce());
  console.log(rounds.map((r) => r.toFixed(1)).join(' '));
} else {
  const s = new Session();
  s.connect();
  if (mode === 'alloc-warm') timeOnce();
  s.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, () => {
    analyzePolicy(policy);
    s.post('HeapProfiler.stopSampling', (err, res) => {
      if (err) throw err;
      const head = (res as { profile: { head: SampleNode } }).profile.head;
      console.log((totalSelf(head) / 1e6).toFixed(1));
      if (mode === 'alloc-by') {
        const top = [...byFunction(head, new Map())].sort((a, b) => b[1] - a[1]).slice(0, 25);
        for (const [k, v] of top) console.log((v / 1e6).toFixed(2).padStart(8), k);
      }
    });
  });
}

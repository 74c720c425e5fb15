// Kernel differential suite for iptables: random iptables-save rulesets are loaded for real into a
// private network namespace, real packets are sent at them, the rule counters say which rule
// decided, and `fwlens query --packets` must name the same line with the same verdict.
//
//   node --import tsx --test test/kernel/iptables.test.ts        (as root; after `npm run build`)
//
// Environment:
//   FWLENS_KERNEL_RULESETS  rulesets to generate (default 50; every fifth one is IPv6)
//   FWLENS_KERNEL_PACKETS   packets in total (default 1500)
//   FWLENS_KERNEL_SEED      the run's seed (default: random, printed)
//   FWLENS_KERNEL_ONLY      comma-separated ruleset indexes to run (to reproduce a failure)
//   FWLENS_KERNEL_FAMILY    4, 6 or both (default both)
//   FWLENS_CLI              the fwlens CLI to test (default dist/cli.js)
//
// Failing cases are written to .test-artifacts/kernel/ (ruleset, packets, both answers).
//
// Pieces: iptables-gen.ts makes the rulesets and packets (rng.ts, addr.ts), netns_driver.py does the
// kernel work (namespaces, veth pairs, crafted frames, conntrack states, counters), kernel.ts turns
// counters into "line N decided", model.ts is the harness's own evaluator. The "harness self-check"
// test compares the kernel with model.ts: if it fails, suspect the harness before fwlens.
//
// The generator avoids two iptables-nft 1.8.9 translation bugs, where the loaded nf_tables rule does
// not mean what the iptables rule says (so the kernel would be no oracle for iptables semantics):
// `! --sport A ! --dport B` is compiled to one 4-byte `!=` (NOT (sport A AND dport B)), and
// `! --dport 0:65535` is dropped (the rule matches every port). It also never writes `! -s 0.0.0.0/0`
// (iptables-nft refuses to load it) nor `!` next to an address list (iptables refuses).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { countBy, packetEntry, packetLines, writeCase } from './report';
import type { Family } from './addr';
import { generatePackets, generateRuleset, Packet, Ruleset, State } from './iptables-gen';
import { kernelAnswer, KernelAnswer, kernelUnavailable, Namespaces, removeStaleNamespaces, runInKernel } from './kernel';
import { evaluate, ModelAnswer } from './model';
import { rulesetSeed } from '../rng';
import { tallyLine, versusFwlens } from './versus';

const ROOT = path.resolve(__dirname, '../..');
const CLI = process.env.FWLENS_CLI ? path.resolve(process.env.FWLENS_CLI) : path.join(ROOT, 'dist', 'cli.js');
const ARTIFACTS = path.join(ROOT, '.test-artifacts', 'kernel');
const SKIP = 'kernel differential: needs root, unshare/ip netns, iptables and python3';

const RULESETS = Number(process.env.FWLENS_KERNEL_RULESETS ?? 50);
const PACKETS = Number(process.env.FWLENS_KERNEL_PACKETS ?? 1500);
const SEED = process.env.FWLENS_KERNEL_SEED !== undefined ? Number(process.env.FWLENS_KERNEL_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const ONLY = process.env.FWLENS_KERNEL_ONLY ? new Set(process.env.FWLENS_KERNEL_ONLY.split(',').map(Number)) : undefined;
const FAMILY = process.env.FWLENS_KERNEL_FAMILY ?? 'both';

const unavailable = kernelUnavailable();
let ns: Namespaces | undefined;

interface Case {
  index: number;
  rs: Ruleset;
  packets: Packet[];
  kernel: KernelAnswer[];
  model: ModelAnswer[];
  saved: string;
  loadError?: string;
}

const cases: Case[] = [];
const timing = { generate: 0, kernel: 0, engine: 0 };

function familyOf(index: number): Family {
  if (FAMILY === '4') return 4;
  if (FAMILY === '6') return 6;
  return index % 5 === 4 ? 6 : 4;
}

function reproduce(index: number): string {
  return `FWLENS_KERNEL_SEED=${SEED} FWLENS_KERNEL_ONLY=${index} FWLENS_KERNEL_RULESETS=${RULESETS} FWLENS_KERNEL_PACKETS=${PACKETS}`;
}

function describeKernel(rs: Ruleset, k: KernelAnswer): string {
  if (k.error) return `(no answer: ${k.error})`;
  return `${k.verdict} by line ${k.line! + 1}: ${k.rule ? k.rule.text : `:INPUT ${rs.policy} (policy)`}`;
}

function describePacket(p: Packet): string {
  return JSON.stringify(p.spec) + (p.state === 'NEW' && !p.spec.state ? ' (state NEW by default)' : '');
}

before(async () => {
  if (unavailable) return;
  removeStaleNamespaces();
  // Artifacts describe the last run only.
  if (existsSync(ARTIFACTS)) for (const d of readdirSync(ARTIFACTS)) if (d.startsWith('iptables-')) rmSync(path.join(ARTIFACTS, d), { recursive: true, force: true });
  ns = new Namespaces(`${process.pid}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`);
  const cleanup = () => ns?.teardown();
  process.once('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  ns.setup();
  console.log(`# kernel differential: seed ${SEED}, ${RULESETS} rulesets, ${PACKETS} packets (reproduce: ${reproduce(0).replace(/ FWLENS_KERNEL_ONLY=0/, '')})`);

  const perRuleset = Math.max(1, Math.ceil(PACKETS / RULESETS));
  for (let i = 0; i < RULESETS; i++) {
    if (ONLY && !ONLY.has(i)) continue;
    let t0 = performance.now();
    const seed = rulesetSeed(SEED, i);
    const rs = generateRuleset(seed, { family: familyOf(i) });
    const packets = generatePackets(rs, seed ^ 0x5eed, perRuleset);
    timing.generate += performance.now() - t0;
    t0 = performance.now();
    const res = await runInKernel(ns, rs, packets);
    timing.kernel += performance.now() - t0;
    const model = packets.map((p) => evaluate(rs, p));
    if (res.loadError) {
      cases.push({ index: i, rs, packets, kernel: [], model, saved: '', loadError: res.loadError });
      continue;
    }
    const kernel = res.results!.map((r) => kernelAnswer(rs, r));
    cases.push({ index: i, rs, packets, kernel, model, saved: res.saved ?? '' });
  }
});

after(() => {
  ns?.teardown();
});

function writeArtifact(c: Case, name: string, data: unknown, engineOut?: string): string {
  return writeCase(path.join(ARTIFACTS, `iptables-${SEED}-${c.index}`), {
    [c.rs.family === 6 ? 'rules.v6' : 'rules.v4']: c.rs.text,
    'packets.jsonl': packetLines(c.packets),
    'kernel-iptables-save.txt': c.saved,
  }, name, data, engineOut, `${reproduce(c.index)} node --import tsx --test test/kernel/iptables.test.ts\n`);
}

const FEATURES: [string, RegExp][] = [
  ['-j user chain', / (-j|--jump) (?!ACCEPT|DROP|REJECT|LOG|MARK|RETURN)\S+$/], ['-g goto', / (-g|--goto) /], ['-j RETURN', /-j RETURN/],
  ['-j LOG', /-j LOG/], ['-j MARK', /-j MARK/], ['-j REJECT', /-j REJECT/], ['! -s', /! (-s|--source) /], ['! -d', /! (-d|--destination) /],
  ['! -p', /! -p /], ['! -i', /! (-i|--in-interface) /], ['-i with +', /(-i|--in-interface) \S*\+/], ['-o', / -o /],
  ['--dport/--sport range', /--(d|s)port \d*:\d*/], ['--dport name', /--dport [a-z]/], ['-m multiport', /-m multiport/], ['! multiport', /multiport !/],
  ['-m iprange', /-m iprange/], ['! --src/dst-range', /! --(src|dst)-range/], ['--ctstate', /--ctstate/], ['--state', /--state /],
  ['! state', /! --(ct)?state/], ['--icmp-type', /--icmpv?6?-type/], ['-m comment', /-m comment/],
];

function coverage(): string {
  const by = countBy;
  const pk: Packet[] = [];
  const ks: KernelAnswer[] = [];
  for (const c of cases) if (!c.loadError) c.packets.forEach((p, i) => (pk.push(p), ks.push(c.kernel[i])));
  const protoName = (p: Packet) => (p.proto === 6 ? 'tcp' : p.proto === 17 ? 'udp' : p.proto === 50 ? 'esp' : 'icmp');
  const feat = FEATURES.map(([name, re]) => {
    let present = 0, matched = 0, decided = 0;
    for (const c of cases) {
      if (c.loadError) continue;
      for (const r of c.rs.rules) {
        if (!re.test(r.text)) continue;
        present++;
        if (c.kernel.some((k) => k.hits.includes(r))) matched++;
        if (c.kernel.some((k) => k.rule === r)) decided++;
      }
    }
    return `${name} ${present}/${matched}/${decided}`;
  });
  return [
    `packets by family: ${by(pk.map((p) => `IPv${p.family}`))}; by protocol: ${by(pk.map(protoName))}; by state: ${by(pk.map((p) => p.state))}`,
    `decided by: a rule ${ks.filter((k) => k.rule).length}, the policy ${ks.filter((k) => !k.rule && !k.error).length}; verdicts: ${by(ks.map((k) => k.verdict ?? 'none'))}; ` +
      `passed through a user chain: ${ks.filter((k) => k.hits.some((h) => h.chain !== 'INPUT')).length}`,
    `rules with feature (present/matched a packet/decided a packet): ${feat.join('; ')}`,
  ].map((l) => `# ${l}`).join('\n');
}

test('kernel: every generated ruleset loads with iptables-restore', { skip: unavailable ? `${SKIP} (${unavailable})` : false }, () => {
  const failed = cases.filter((c) => c.loadError);
  for (const c of failed) writeArtifact(c, 'load-error.json', { error: c.loadError });
  assert.equal(failed.length, 0, failed.map((c) => `ruleset ${c.index} (seed ${c.rs.seed}): ${c.loadError}`).join('\n'));
});

test('kernel: the counters agree with the harness model (harness self-check)', { skip: unavailable ? `${SKIP} (${unavailable})` : false }, () => {
  const problems: string[] = [];
  let compared = 0;
  for (const c of cases) {
    if (c.loadError) continue;
    const bad: unknown[] = [];
    c.packets.forEach((p, i) => {
      const k = c.kernel[i];
      const m = c.model[i];
      compared++;
      const mLine = m.rule ? m.rule.line : c.rs.policyLine;
      const kHits = k.hits.map((h) => h.line).sort((a, b) => a - b).join(',');
      const mHits = m.path.map((h) => h.line).sort((a, b) => a - b).join(',');
      if (k.error || k.line !== mLine || k.verdict !== m.verdict || kHits !== mHits) {
        bad.push({ packet: p.spec, state: p.state, kernel: describeKernel(c.rs, k), kernelHits: kHits, model: `${m.verdict} by line ${mLine + 1}`, modelHits: mHits });
        if (problems.length < 15) {
          problems.push(`ruleset ${c.index} packet ${i}: ${describePacket(p)}\n    kernel ${describeKernel(c.rs, k)} [hits ${kHits}]\n    model  ${m.verdict} by line ${mLine + 1} [hits ${mHits}]`);
        }
      }
    });
    if (bad.length) {
      const dir = writeArtifact(c, 'harness-mismatches.json', bad);
      problems.push(`  (details in ${path.relative(ROOT, dir)})`);
    }
  }
  console.log(`# harness self-check: ${compared} packets in ${cases.length} rulesets; kernel ${Math.round(timing.kernel)} ms, generation ${Math.round(timing.generate)} ms`);
  console.log(coverage());
  assert.equal(problems.length, 0, `the kernel and the harness model disagree (seed ${SEED}):\n${problems.join('\n')}`);
});

test('kernel: fwlens query names the same deciding rule and verdict as the kernel', { skip: unavailable ? `${SKIP} (${unavailable})` : !existsSync(CLI) ? `${path.relative(ROOT, CLI)} is missing: run npm run build first` : false }, async () => {
  const file = (c: Case) => (c.rs.family === 6 ? 'rules.v6' : 'rules.v4');
  const t = await versusFwlens({
    cli: CLI,
    cases,
    tmpPrefix: 'fwlens-kernel-',
    parallel: 1,
    input: (c) => ({ name: file(c), text: c.rs.text }),
    label: (c) => `ruleset ${c.index} (${file(c)})`,
    skip: (c, i) => !!c.kernel[i].error,
    agrees: (c, i, e) => {
      const k = c.kernel[i];
      const eLine = e.range?.start?.line;
      // When the policy decided, `:INPUT DROP` and a later `-P INPUT DROP` both name it.
      const lineOk = eLine === k.line || (!k.rule && eLine !== undefined && c.rs.policyLines.includes(eLine));
      return e.verdict === k.verdict && lineOk;
    },
    mismatch: (c, i, e, fw) => {
      const p = c.packets[i];
      const k = c.kernel[i];
      return {
        entry: {
          ...packetEntry(p),
          kernel: describeKernel(c.rs, k),
          kernelPath: k.hits.map((h) => `${h.line + 1}: ${h.text}`),
          fwlens: fw,
          fwlensAnswer: e,
        },
        text: `${describePacket(p)}\n    kernel ${describeKernel(c.rs, k)}\n    fwlens ${fw}`,
      };
    },
    writeArtifact,
    relative: (d) => path.relative(ROOT, d),
  });
  timing.engine = t.engineMs;
  const summary = tallyLine(t, cases.length);
  console.log(`# fwlens vs kernel: ${summary}; fwlens ${Math.round(timing.engine)} ms`);
  assert.ok(t.wrong + t.unanswered === 0, `fwlens disagrees with the kernel (seed ${SEED}): ${summary}\n${t.mismatches.join('\n')}\n(artifacts in ${path.relative(ROOT, ARTIFACTS)})`);
});

// The harness's own promise: it produces the connection states it claims, in both families.
test('kernel: the sender produces every connection state it claims', { skip: unavailable ? `${SKIP} (${unavailable})` : false }, async () => {
  for (const family of [4, 6] as const) {
    const states: State[] = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID'];
    const lines = ['*filter', ':INPUT DROP [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]',
      ...states.map((s) => `-A INPUT -m conntrack --ctstate ${s} -j ACCEPT`), 'COMMIT'];
    const rs = generateRuleset(1, { family });
    // Reuse the generated skeleton's types but replace its content with the probe ruleset.
    const rules = states.map((s, i) => ({ chain: 'INPUT', index: i, line: 4 + i, text: lines[4 + i], conds: [{ k: 'state' as const, neg: false, states: [s] }], target: 'ACCEPT' as const }));
    const probe: Ruleset = { ...rs, text: lines.join('\n') + '\n', policy: 'DROP', policyLine: 1, policyLines: [1], userChains: [], rules, byChain: new Map([['INPUT', rules]]) };
    const icmp = family === 4 ? 1 : 58;
    const src = family === 4 ? 0xc6336407n : 0x2a0200c0000000000000000000000007n;
    const dst = family === 4 ? 0x0a090001n : 0x20010db8000000000000000000000001n;
    const kinds: [number, State, number?, number?][] = family === 4
      ? [[6, 'NEW'], [6, 'ESTABLISHED'], [6, 'INVALID'], [17, 'NEW'], [17, 'ESTABLISHED'], [17, 'INVALID'], [50, 'NEW'], [50, 'ESTABLISHED'],
        [icmp, 'NEW', 8, 0], [icmp, 'NEW', 13, 0], [icmp, 'ESTABLISHED', 0, 0], [icmp, 'INVALID', 0, 0], [icmp, 'RELATED', 3, 3], [icmp, 'RELATED', 11, 0],
        [icmp, 'RELATED', 12, 0], [icmp, 'INVALID', 3, 1], [icmp, 'INVALID', 9, 0]]
      : [[6, 'NEW'], [6, 'ESTABLISHED'], [6, 'INVALID'], [17, 'NEW'], [17, 'ESTABLISHED'], [17, 'INVALID'], [50, 'NEW'], [50, 'ESTABLISHED'],
        [icmp, 'NEW', 128, 0], [icmp, 'ESTABLISHED', 129, 0], [icmp, 'INVALID', 129, 0], [icmp, 'RELATED', 1, 4], [icmp, 'RELATED', 2, 0],
        [icmp, 'RELATED', 3, 0], [icmp, 'INVALID', 1, 4]];
    const packets: Packet[] = kinds.map(([proto, state, t, code], i) => ({
      family, src: src + BigInt(i), dst, proto, state, in: 'eth0', aim: -1, spec: {},
      ...(proto === 6 || proto === 17 ? { sport: 40000 + i, dport: 80 } : {}),
      ...(t !== undefined ? { icmpType: t, icmpCode: code } : {}),
    }));
    const res = await runInKernel(ns!, probe, packets);
    assert.equal(res.loadError, undefined);
    res.results!.forEach((r, i) => {
      const k = kernelAnswer(probe, r);
      const [proto, state, t, code] = kinds[i];
      assert.equal(k.error, undefined, `IPv${family} ${proto} ${state}: ${k.error}`);
      assert.equal(k.rule?.text, `-A INPUT -m conntrack --ctstate ${state} -j ACCEPT`,
        `IPv${family} proto ${proto}${t !== undefined ? ` icmp ${t}/${code}` : ''} meant as ${state} was seen by the kernel as ${k.rule ? k.rule.text : 'none of the four states'}`);
    });
  }
});

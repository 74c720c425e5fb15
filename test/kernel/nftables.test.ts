// Kernel differential suite for nftables: random nftables rulesets are loaded for real (`nft -f`)
// into a private network namespace, real packets are sent at them, the rule counters say which rule
// decided, and `fwlens query --packets` must name the same line with the same verdict.
//
//   node --import tsx --test test/kernel/nftables.test.ts        (as root; after `npm run build`)
//
// Environment:
//   FWLENS_KERNEL_NFT_RULESETS  rulesets to generate (default 50)
//   FWLENS_KERNEL_NFT_PACKETS   packets in total (default 1500)
//   FWLENS_KERNEL_NFT_SEED      the run's seed (default: random, printed)
//   FWLENS_KERNEL_NFT_ONLY      comma-separated ruleset indexes to run (to reproduce a failure)
//   FWLENS_CLI                  the fwlens CLI to test (default dist/cli.js)
//   FWLENS_KERNEL_NFT_NO_NEG_NAMED=1  generate no `!= @named_set` (fwlens answers those wrongly:
//                               a non-member of a named set is "uncertain" and the rule is taken as not
//                               matching); the random draws stay the same, so seeds stay comparable
//
// Not generated: `ct state != a,b` (comma list, not a set): nft 1.0.6 compiles it to one whole-value
// compare `ct state != (a|b)`, true for every packet, where fwlens (and later nft) read "none of a, b";
// a bare `th dport` without `meta l4proto { tcp, udp }` (on ICMP/ESP it reads the checksum/SPI bytes;
// fwlens answers "uncertain" there); `return` in a base chain; equal priorities on one hook.
//
// Failing cases are written to .test-artifacts/kernel/nft-<seed>-<index>/ (the ruleset as fwlens
// reads it, the instrumented ruleset the kernel loaded, the packets, both answers, REPRODUCE).
//
// Pieces: nftables-gen.ts makes the rulesets and packets (rng.ts, addr.ts, the packet pools of
// iptables-gen.ts); netns_driver.py does the kernel work (`run-nft`: the iptables suite's namespaces,
// veth pairs, crafted frames and connection states; counters from `nft -j list ruleset`);
// nftables-model.ts turns the counters into "line N decided" and holds the harness's own evaluator.
//
// What "decided" means with several base chains on the input hook (the convention of fwlens, checked
// by hand against its CLI): a drop or reject anywhere (a rule, a vmap element, a base chain's drop
// policy) is final and is the answer; a packet that every base chain lets through is accepted, and
// the answer is what accepted it in the LAST base chain (by priority) that sees its family: the
// accept rule, the vmap rule, or that chain's `policy accept`.
//
// How the kernel tells (see nftables-gen.ts for the instrumentation, which only the kernel's copy of
// the ruleset carries): `counter` before the verdict of every rule, named by `comment "rN"`;
// per-element counters of verdict maps; a counter rule at the end of every base chain (the packets
// its policy decided); an observer table before and after all generated base chains, which also
// records the conntrack state the kernel gave the packet (it must be the state fwlens is told).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { countBy, packetEntry, packetLines, writeCase } from './report';
import { formatIp } from './addr';
import { Packet, RECV_IFACES } from './iptables-gen';
import { DRIVER, Namespaces, removeStaleNamespaces, run } from './kernel';
import { generateNftPackets, generateNftRuleset, NRuleset } from './nftables-gen';
import { baseChainsFor, evaluateNft, kernelNftAnswer, NftAnswer, NftModelAnswer } from './nftables-model';
import { rulesetSeed } from '../rng';
import { EngineAnswer, tallyLine, versusFwlens } from './versus';

const ROOT = path.resolve(__dirname, '../..');
const CLI = process.env.FWLENS_CLI ? path.resolve(process.env.FWLENS_CLI) : path.join(ROOT, 'dist', 'cli.js');
const ARTIFACTS = path.join(ROOT, '.test-artifacts', 'kernel');
const SKIP = 'nftables kernel differential: needs root, ip netns, nft and python3';

const RULESETS = Number(process.env.FWLENS_KERNEL_NFT_RULESETS ?? 50);
const PACKETS = Number(process.env.FWLENS_KERNEL_NFT_PACKETS ?? 1500);
const SEED = process.env.FWLENS_KERNEL_NFT_SEED !== undefined ? Number(process.env.FWLENS_KERNEL_NFT_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const ONLY = process.env.FWLENS_KERNEL_NFT_ONLY ? new Set(process.env.FWLENS_KERNEL_NFT_ONLY.split(',').map(Number)) : undefined;

function nftUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root';
  const py = spawnSync('python3', [DRIVER, 'check-nft'], { encoding: 'utf8' });
  if (py.error) return 'no python3';
  if (py.status !== 0) return (py.stdout || py.stderr).trim() || 'driver check failed';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return 'no `ip netns`';
  return undefined;
}

const unavailable = nftUnavailable();
let ns: Namespaces | undefined;

interface Case {
  index: number;
  rs: NRuleset;
  packets: Packet[];
  kernel: NftAnswer[];
  model: NftModelAnswer[];
  saved: string;
  loadError?: string;
}

const cases: Case[] = [];
const timing = { generate: 0, kernel: 0, engine: 0 };

function reproduce(index?: number): string {
  return `FWLENS_KERNEL_NFT_SEED=${SEED}${index === undefined ? '' : ` FWLENS_KERNEL_NFT_ONLY=${index}`} FWLENS_KERNEL_NFT_RULESETS=${RULESETS} FWLENS_KERNEL_NFT_PACKETS=${PACKETS}`;
}

function describe(a: NftAnswer | NftModelAnswer): string {
  if ('error' in a && a.error) return `(no answer: ${a.error})`;
  const what = a.rule ? a.rule.text : `policy ${a.verdict} of ${a.chain!.table.family} ${a.chain!.table.name} ${a.chain!.name}`;
  return `${a.verdict} by line ${a.line! + 1}: ${what}`;
}

const hitsText = (h: Record<string, number>) => Object.entries(h).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => (n > 1 ? `${k}x${n}` : k)).join(' ');

before(async () => {
  if (unavailable) return;
  removeStaleNamespaces();
  if (existsSync(ARTIFACTS)) for (const d of readdirSync(ARTIFACTS)) if (d.startsWith('nft-')) rmSync(path.join(ARTIFACTS, d), { recursive: true, force: true });
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
  console.log(`# nftables kernel differential: seed ${SEED}, ${RULESETS} rulesets, ${PACKETS} packets (reproduce: ${reproduce()})`);
  const perRuleset = Math.max(1, Math.ceil(PACKETS / RULESETS));
  for (let i = 0; i < RULESETS; i++) {
    if (ONLY && !ONLY.has(i)) continue;
    let t0 = performance.now();
    const seed = rulesetSeed(SEED, i);
    const rs = generateNftRuleset(seed);
    const packets = generateNftPackets(rs, seed ^ 0x5eed, perRuleset);
    timing.generate += performance.now() - t0;
    t0 = performance.now();
    const job = {
      recv: ns.recv, send: ns.send, ifaces: RECV_IFACES, rules: rs.ktext, finals: rs.finals,
      packets: packets.map((p, j) => ({
        family: p.family, src: formatIp(p.family, p.src), dst: formatIp(p.family, p.dst), proto: p.proto,
        sport: p.sport, dport: p.dport, icmpType: p.icmpType, icmpCode: p.icmpCode, in: p.in, state: p.state, seed: (seed + j) >>> 0,
      })),
    };
    const r = await run('python3', [DRIVER, 'run-nft'], JSON.stringify(job));
    timing.kernel += performance.now() - t0;
    if (r.status !== 0) throw new Error(`netns_driver.py run-nft failed (exit ${r.status}): ${r.stderr}`);
    const res = JSON.parse(r.stdout) as { loadError?: string; results?: { hits: Record<string, number>; clean: boolean }[]; saved?: string };
    const model = packets.map((p) => evaluateNft(rs, p));
    if (res.loadError) {
      cases.push({ index: i, rs, packets, kernel: [], model, saved: '', loadError: res.loadError });
      continue;
    }
    cases.push({ index: i, rs, packets, kernel: res.results!.map((x, j) => kernelNftAnswer(rs, packets[j], x)), model, saved: res.saved ?? '' });
  }
});

after(() => {
  ns?.teardown();
});

function writeArtifact(c: Case, name: string, data: unknown, engineOut?: string): string {
  const dir = path.join(ARTIFACTS, `nft-${SEED}-${c.index}`);
  return writeCase(dir, {
    'ruleset.nft': c.rs.text,
    'kernel-loaded.nft': c.rs.ktext,
    'packets.jsonl': packetLines(c.packets),
    'kernel-nft-list-ruleset.txt': c.saved,
  }, name, data, engineOut, `REPRODUCE: ${reproduce(c.index)} node --import tsx --test test/kernel/nftables.test.ts\n` +
    `fwlens alone: node dist/cli.js query ${path.relative(ROOT, path.join(dir, 'ruleset.nft'))} --packets ${path.relative(ROOT, path.join(dir, 'packets.jsonl'))}\n`);
}

const FEATURES: [string, RegExp][] = [
  ['ip saddr/daddr', /\bip [sd]addr /], ['ip6 saddr/daddr', /\bip6 [sd]addr /], ['address prefix', /addr (!= )?[0-9a-f:.]+\/\d+/],
  ['address range', /addr (!= )?[0-9a-f:.]+-[0-9a-f:.]+/], ['!=', / != /], ['anonymous set', /(addr|port|type|state|iifname|l4proto) (!= )?\{/],
  ['named set @', / @(src|dst|ports)/], ['$define', / \$/], ['vmap anonymous', /vmap \{/], ['vmap named', /vmap @/],
  ['meta l4proto', /meta l4proto/], ['th dport', /\bth [sd]port/], ['tcp dport/sport', /\btcp [sd]port/], ['udp dport/sport', /\budp [sd]port/],
  ['icmp type', /\bicmp type/], ['icmpv6 type', /\bicmpv6 type/], ['iifname', /iifname/], ['iifname wildcard', /iifname (!= )?.*\*"/],
  ['ct state', /ct state/], ['jump', /counter jump /], ['goto', /counter goto /], ['return', /counter return/], ['reject', /counter reject/],
  ['counter only', /counter comment/],
];

function coverage(): string {
  const by = countBy;
  const pk: Packet[] = [];
  const ks: NftAnswer[] = [];
  for (const c of cases) if (!c.loadError) c.packets.forEach((p, i) => (pk.push(p), ks.push(c.kernel[i])));
  const feat = FEATURES.map(([name, re]) => {
    let present = 0;
    let matched = 0;
    let decided = 0;
    for (const c of cases) {
      if (c.loadError) continue;
      for (const r of c.rs.rules) {
        if (!re.test(r.text)) continue;
        present++;
        const moved = (k: NftAnswer) => !!k.hits[r.name] || (r.vmap?.elems.some((e) => !!k.hits[e.key]) ?? false);
        if (c.kernel.some(moved)) matched++;
        if (c.kernel.some((k) => k.rule === r)) decided++;
      }
    }
    return `${name} ${present}/${matched}/${decided}`;
  });
  const ok = cases.filter((c) => !c.loadError);
  const tables = ok.flatMap((c) => c.rs.tables.map((t) => t.family));
  const protoName = (p: Packet) => (p.proto === 6 ? 'tcp' : p.proto === 17 ? 'udp' : p.proto === 50 ? 'esp' : p.proto === 1 ? 'icmp' : 'icmpv6');
  return [
    `rulesets: tables ${by(tables)}; base chains on the hook: ${by(ok.map((c) => String(c.rs.baseChains.length)))}; rules ${ok.reduce((n, c) => n + c.rs.rules.length, 0)}`,
    `packets by family: ${by(pk.map((p) => `IPv${p.family}`))}; by protocol: ${by(pk.map(protoName))}; by state: ${by(pk.map((p) => p.state))}`,
    `decided by: a rule ${ks.filter((k) => k.rule).length}, a policy ${ks.filter((k) => !k.rule && !k.error).length}; verdicts: ${by(ks.map((k) => k.verdict ?? 'none'))}; ` +
      `decided in a base chain other than the first one the packet met: ${ok.reduce((n, c) => n + c.kernel.filter((k, i) => k.chain && k.chain !== baseChainsFor(c.rs, c.packets[i].family)[0]).length, 0)}; ` +
      `passed through a regular chain: ${ok.reduce((n, c) => n + c.kernel.filter((k) => Object.keys(k.hits).some((h) => { const r = c.rs.byName.get(h) ?? c.rs.elems.get(h)?.rule; return !!r && !r.chain.base; })).length, 0)}`,
    `rules with feature (present/matched a packet/decided a packet): ${feat.join('; ')}`,
  ].map((l) => `# ${l}`).join('\n');
}

test('nftables kernel: every generated ruleset loads with nft -f', { skip: unavailable ? `${SKIP} (${unavailable})` : false }, () => {
  const failed = cases.filter((c) => c.loadError);
  for (const c of failed) writeArtifact(c, 'load-error.json', { error: c.loadError });
  assert.equal(failed.length, 0, failed.map((c) => `ruleset ${c.index} (seed ${c.rs.seed}): ${c.loadError}`).join('\n'));
});

test('nftables kernel: the counters agree with the harness model (harness self-check)', { skip: unavailable ? `${SKIP} (${unavailable})` : false }, () => {
  const problems: string[] = [];
  let compared = 0;
  for (const c of cases) {
    if (c.loadError) continue;
    const bad: unknown[] = [];
    c.packets.forEach((p, i) => {
      const k = c.kernel[i];
      const m = c.model[i];
      compared++;
      const kh = hitsText(k.hits);
      const mh = hitsText(m.hits);
      if (k.error || k.line !== m.line || k.verdict !== m.verdict || kh !== mh) {
        bad.push({ packet: p.spec, state: p.state, kernel: describe(k), kernelHits: kh, model: describe(m), modelHits: mh });
        if (problems.length < 15) problems.push(`ruleset ${c.index} packet ${i}: ${JSON.stringify(p.spec)}\n    kernel ${describe(k)} [${kh}]\n    model  ${describe(m)} [${mh}]`);
      }
    });
    if (bad.length) problems.push(`  (details in ${path.relative(ROOT, writeArtifact(c, 'harness-mismatches.json', bad))})`);
  }
  console.log(`# harness self-check: ${compared} packets in ${cases.length} rulesets; kernel ${Math.round(timing.kernel)} ms, generation ${Math.round(timing.generate)} ms`);
  console.log(coverage());
  assert.equal(problems.length, 0, `the kernel and the harness model disagree (seed ${SEED}):\n${problems.join('\n')}`);
});

test('nftables kernel: fwlens query names the same deciding line and verdict as the kernel', {
  skip: unavailable ? `${SKIP} (${unavailable})` : !existsSync(CLI) ? `${path.relative(ROOT, CLI)} is missing: run npm run build first` : false,
}, async () => {
  const t = await versusFwlens({
    cli: CLI,
    cases,
    tmpPrefix: 'fwlens-kernel-nft-',
    parallel: 2, // the machine has two cores
    input: (c) => ({ name: 'ruleset.nft', text: c.rs.text }),
    label: (c) => `ruleset ${c.index}`,
    skip: (c, i) => !!c.kernel[i].error,
    agrees: (c, i, e) => e.verdict === c.kernel[i].verdict && e.range?.start?.line === c.kernel[i].line,
    mismatch: (c, i, e, fw) => {
      const p = c.packets[i];
      const k = c.kernel[i];
      return {
        entry: {
          ...packetEntry(p),
          kernel: describe(k),
          kernelCounters: hitsText(k.hits),
          fwlens: fw,
          fwlensAnswer: e,
        },
        text: `${JSON.stringify(p.spec)}\n    kernel ${describe(k)}\n    fwlens ${fw}`,
      };
    },
    writeArtifact,
    relative: (d) => path.relative(ROOT, d),
  });
  timing.engine = t.engineMs;
  const summary = tallyLine(t, cases.length);
  console.log(`# fwlens vs kernel (nftables): ${summary}; fwlens ${Math.round(timing.engine)} ms`);
  assert.ok(t.wrong + t.unanswered === 0, `fwlens disagrees with the kernel (seed ${SEED}): ${summary}\n${t.mismatches.join('\n')}\n(artifacts in ${path.relative(ROOT, ARTIFACTS)}; REPRODUCE file in each)`);
});

// Hand cases: the several-base-chains convention on a fixed ruleset with known answers, so that a
// change of convention in fwlens, or a harness regression, shows up with a readable message.
const HAND = [
  'table inet filter {', //                                                   0
  '  map dns { type inet_service : verdict; counter; elements = { 53 : accept, 54 : drop } }', // 1
  '  chain early {', //                                                        2
  '    type filter hook input priority -10; policy accept;', //               3
  '    tcp dport 23 counter drop comment "h1"', //                             4
  '    tcp dport { 22, 80 } counter accept comment "h2"', //                   5
  '  }', //                                                                    6
  '  chain main {', //                                                         7
  '    type filter hook input priority filter; policy drop;', //              8
  '    tcp dport 22 counter accept comment "h3"', //                           9
  '    udp dport vmap @dns comment "h4"', //                                   10
  '  }', //                                                                    11
  '}', //                                                                      12
  'table ip v4only {', //                                                      13
  '  chain late {', //                                                         14
  '    type filter hook input priority 10; policy accept;', //                15
  '    ip saddr 203.0.113.0/24 counter drop comment "h5"', //                  16
  '  }', //                                                                    17
  '}', //                                                                      18
];
const HAND_CASES: { spec: Record<string, string | number>; family: 4 | 6; moved: string[]; verdict: string; line: number; why: string }[] = [
  { spec: { src: '198.51.100.7', dst: '10.1.0.1', proto: 'tcp', dport: 22, in: 'eth0' }, family: 4, moved: ['h2', 'h3', 'fwlk-tail-late', 'fwlk-last'], verdict: 'accept', line: 15, why: 'accepted by every base chain: the last one (ip v4only late, its policy) answers' },
  { spec: { src: '2a02:c0::7', dst: '2001:db8::1', proto: 'tcp', dport: 22, in: 'eth0' }, family: 6, moved: ['h2', 'h3', 'fwlk-last'], verdict: 'accept', line: 9, why: 'IPv6: the ip table is not on its path, the last base chain it meets is inet main' },
  { spec: { src: '198.51.100.7', dst: '10.1.0.1', proto: 'tcp', dport: 80, in: 'eth0' }, family: 4, moved: ['h2', 'fwlk-tail-main'], verdict: 'drop', line: 8, why: 'an accept in early does not skip main, whose policy drops' },
  { spec: { src: '198.51.100.7', dst: '10.1.0.1', proto: 'tcp', dport: 23, in: 'eth0' }, family: 4, moved: ['h1'], verdict: 'drop', line: 4, why: 'a drop in the first base chain is final' },
  { spec: { src: '203.0.113.5', dst: '10.1.0.1', proto: 'tcp', dport: 22, in: 'eth0' }, family: 4, moved: ['h2', 'h3', 'h5'], verdict: 'drop', line: 16, why: 'accepted twice, dropped by the last base chain' },
  { spec: { src: '2a02:c0::7', dst: '2001:db8::1', proto: 'udp', dport: 53, sport: 40000, in: 'eth0' }, family: 6, moved: ['@inet/filter/dns#53', 'fwlk-last'], verdict: 'accept', line: 10, why: 'a verdict map accepts in the last base chain' },
  { spec: { src: '198.51.100.7', dst: '10.1.0.1', proto: 'udp', dport: 54, sport: 40000, in: 'eth0' }, family: 4, moved: ['@inet/filter/dns#54'], verdict: 'drop', line: 10, why: 'a verdict map drops' },
];

test('nftables kernel: hand cases (several base chains, both families, a verdict map)', { skip: unavailable ? `${SKIP} (${unavailable})` : false }, async () => {
  const ktext = [...HAND.slice(0, 6), '    counter comment "fwlk-tail-early"', ...HAND.slice(6, 11), '    counter comment "fwlk-tail-main"', ...HAND.slice(11, 17),
    '    counter comment "fwlk-tail-late"', ...HAND.slice(17),
    'table inet fwlk_obs {', '  chain first { type filter hook input priority -1000; policy accept; counter comment "fwlk-first"; }',
    '  chain last { type filter hook input priority 1000; policy accept; counter comment "fwlk-last"; }', '}'].join('\n') + '\n';
  const finals = ['h1', 'h5', '@inet/filter/dns#54', 'fwlk-tail-main', 'fwlk-last'];
  const job = {
    recv: ns!.recv, send: ns!.send, ifaces: RECV_IFACES, rules: ktext, finals,
    packets: HAND_CASES.map((h, i) => ({ family: h.family, src: h.spec.src, dst: h.spec.dst, proto: h.spec.proto === 'tcp' ? 6 : 17, sport: h.spec.sport ?? 40000 + i, dport: h.spec.dport, in: h.spec.in, state: 'NEW', seed: i })),
  };
  const r = await run('python3', [DRIVER, 'run-nft'], JSON.stringify(job));
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { loadError?: string; results: { hits: Record<string, number> }[] };
  assert.equal(res.loadError, undefined);
  res.results.forEach((x, i) => {
    const moved = Object.keys(x.hits).filter((k) => k !== 'fwlk-first' && k !== 'fwlk-tail-early').sort();
    assert.deepEqual(moved, [...HAND_CASES[i].moved].sort(), `hand case ${i} (${HAND_CASES[i].why}): the kernel's counters`);
  });
  if (!existsSync(CLI)) return;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fwlens-kernel-nft-hand-'));
  try {
    writeFileSync(path.join(tmp, 'hand.nft'), HAND.join('\n') + '\n');
    writeFileSync(path.join(tmp, 'packets.jsonl'), HAND_CASES.map((h) => JSON.stringify(h.spec)).join('\n') + '\n');
    const q = await run(process.execPath, [CLI, 'query', path.join(tmp, 'hand.nft'), '--packets', path.join(tmp, 'packets.jsonl')]);
    const lines = q.stdout.split('\n').filter((l) => l.trim());
    assert.equal(lines.length, HAND_CASES.length, q.stderr);
    lines.forEach((l, i) => {
      const e = JSON.parse(l) as EngineAnswer;
      const h = HAND_CASES[i];
      assert.deepEqual({ verdict: e.verdict, line: e.range?.start.line }, { verdict: h.verdict, line: h.line }, `hand case ${i} (${h.why}): fwlens`);
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

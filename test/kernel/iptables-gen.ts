// Random iptables-save rulesets (filter table, INPUT plus user chains) and packets aimed at their
// rules, for the kernel differential suite. Everything is drawn from a seeded Rng, so a ruleset and
// its packets are reproduced from (seed, index) alone.
//
// Each rule is kept both as text (what iptables-restore and fwlens read) and as a list of
// conditions (what model.ts evaluates and what packets are aimed at).
import { BITS, Family, formatIp, inCidrs, mask, parseCidr, prefixBounds } from './addr';
import { Rng } from '../rng';

export type State = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID';
export const STATES: readonly State[] = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID'];

export type Cond =
  | { k: 'proto'; neg: boolean; num: number }
  | { k: 'src' | 'dst'; neg: boolean; lo: bigint; hi: bigint }
  | { k: 'in' | 'out'; neg: boolean; pat: string }
  /** `port` is multiport --ports: source or destination port. */
  | { k: 'sport' | 'dport' | 'port'; neg: boolean; ranges: [number, number][] }
  /** type null: `any`; code null: every code of the type. */
  | { k: 'icmp'; neg: boolean; type: number | null; code: number | null }
  | { k: 'state'; neg: boolean; states: State[] };

export type Target = 'ACCEPT' | 'DROP' | 'REJECT' | 'LOG' | 'MARK' | 'RETURN' | 'JUMP' | 'GOTO';
export const TERMINAL: ReadonlySet<Target> = new Set<Target>(['ACCEPT', 'DROP', 'REJECT']);

export interface GenRule {
  chain: string;
  /** Position within its chain, 0-based (what iptables-save -c lists in the same order). */
  index: number;
  /** 0-based line in the generated file (shared by the rules one line expands into). */
  line: number;
  text: string;
  conds: Cond[];
  target: Target;
  /** The chain of a JUMP or GOTO. */
  to?: string;
}

export interface Ruleset {
  family: Family;
  seed: number;
  text: string;
  policy: 'ACCEPT' | 'DROP';
  /** 0-based line that sets the INPUT policy (`:INPUT DROP [0:0]`, or a later `-P INPUT DROP`). */
  policyLine: number;
  /** Lines an answer "the policy decided" may point at: policyLine and the `:INPUT` header. */
  policyLines: number[];
  userChains: string[];
  rules: GenRule[];
  byChain: Map<string, GenRule[]>;
  /** Values the rules mention, for packets that hit them. */
  srcValues: bigint[];
  dstValues: bigint[];
  ports: number[];
}

export interface Packet {
  family: Family;
  src: bigint;
  dst: bigint;
  proto: number;
  sport?: number;
  dport?: number;
  icmpType?: number;
  icmpCode?: number;
  in: string;
  state: State;
  /** What was aimed at: a rule's line, or -1 for a random packet. */
  aim: number;
  /** The packet as fwlens reads it (--packets, one JSON object a line). */
  spec: Record<string, string | number>;
}

// ------------------------------------------------------------------------------------------------
// the world the receiving namespace lives in (keep in sync with netns_driver.py)

/** Interfaces of the receiving namespace: the packet arrives on one of these. */
export const RECV_IFACES = ['eth0', 'eth1', 'veth0', 'veth12', 'wan0', 'ens3'];
/** Interface names and patterns rules mention. */
const RULE_IFACES = ['eth0', 'eth1', 'eth+', 'veth0', 'veth1+', 'veth+', 'wan0', 'wan+', 'ens3', 'en+', 'e+', 'lo', 'ppp0', 'tun+', 'docker0', '+'];

/** Destination ranges the receiver owns (`ip route add local … dev lo`). */
export const LOCAL: Record<Family, string[]> = { 4: ['10.0.0.0/8', '100.64.0.0/10'], 6: ['2001:db8::/32'] };
/** Where rule destinations are drawn from (inside LOCAL, so packets can reach them). */
export const DST_POOLS: Record<Family, string[]> = {
  4: ['10.1.0.0/16', '10.9.0.0/16', '10.200.0.0/16', '10.0.0.0/8', '100.64.0.0/10'],
  6: ['2001:db8:1::/48', '2001:db8:ab00::/40', '2001:db8::/32'],
};
/** Where rule and packet sources are drawn from: routable, not local, not martian. */
export const SRC_POOLS: Record<Family, string[]> = {
  4: ['198.51.100.0/24', '203.0.113.0/24', '192.168.0.0/16', '172.16.0.0/12', '185.12.0.0/16', '130.10.0.0/16'],
  6: ['2a02:c0::/32', 'fd12:3456::/32', '2600:1f00::/24', '2001:470::/32'],
};
/** Addresses a packet may not carry as its source (local, loopback, multicast, reserved). */
export const BAD_SRC: Record<Family, string[]> = {
  4: ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/3'],
  6: ['::/8', '2001:db8::/32', 'fe80::/10', 'ff00::/8'],
};

const PORTS = [22, 25, 53, 80, 123, 443, 1024, 3306, 5432, 8080, 8443, 1, 65535, 1023, 6000, 51820];
const SERVICES: Record<string, [string, number][]> = {
  tcp: [['ssh', 22], ['http', 80], ['https', 443], ['smtp', 25], ['domain', 53]],
  udp: [['domain', 53], ['ntp', 123], ['https', 443]],
};

interface IcmpName { text: string; type: number | null; code: number | null }
const ICMP_RULE_TYPES: Record<Family, IcmpName[]> = {
  4: [
    { text: 'any', type: null, code: null }, { text: 'echo-request', type: 8, code: null }, { text: 'echo-reply', type: 0, code: null },
    { text: 'destination-unreachable', type: 3, code: null }, { text: 'port-unreachable', type: 3, code: 3 },
    { text: 'host-unreachable', type: 3, code: 1 }, { text: 'network-unreachable', type: 3, code: 0 },
    { text: 'fragmentation-needed', type: 3, code: 4 }, { text: 'host-prohibited', type: 3, code: 10 },
    { text: 'communication-prohibited', type: 3, code: 13 }, { text: 'source-quench', type: 4, code: null },
    { text: 'redirect', type: 5, code: null }, { text: 'host-redirect', type: 5, code: 1 },
    { text: 'router-advertisement', type: 9, code: null }, { text: 'router-solicitation', type: 10, code: null },
    { text: 'time-exceeded', type: 11, code: null }, { text: 'ttl-zero-during-transit', type: 11, code: 0 },
    { text: 'ttl-zero-during-reassembly', type: 11, code: 1 }, { text: 'parameter-problem', type: 12, code: null },
    { text: 'ip-header-bad', type: 12, code: 0 }, { text: 'timestamp-request', type: 13, code: null },
    { text: 'timestamp-reply', type: 14, code: null }, { text: 'address-mask-request', type: 17, code: null },
    { text: 'ping', type: 8, code: null },
    { text: '8', type: 8, code: null }, { text: '0', type: 0, code: null }, { text: '3', type: 3, code: null },
    { text: '3/3', type: 3, code: 3 }, { text: '3/1', type: 3, code: 1 }, { text: '11/0', type: 11, code: 0 },
    { text: '8/0', type: 8, code: 0 }, { text: '13', type: 13, code: null }, { text: '5/1', type: 5, code: 1 },
    { text: '12/0', type: 12, code: 0 },
  ],
  6: [
    { text: 'echo-request', type: 128, code: null }, { text: 'echo-reply', type: 129, code: null },
    { text: 'destination-unreachable', type: 1, code: null }, { text: 'no-route', type: 1, code: 0 },
    { text: 'communication-prohibited', type: 1, code: 1 }, { text: 'address-unreachable', type: 1, code: 3 },
    { text: 'port-unreachable', type: 1, code: 4 }, { text: 'packet-too-big', type: 2, code: null },
    { text: 'time-exceeded', type: 3, code: null }, { text: 'ttl-zero-during-transit', type: 3, code: 0 },
    { text: 'parameter-problem', type: 4, code: null }, { text: 'bad-header', type: 4, code: 0 },
    { text: 'unknown-header-type', type: 4, code: 1 }, { text: 'router-solicitation', type: 133, code: null },
    { text: 'neighbour-solicitation', type: 135, code: null },
    { text: '128', type: 128, code: null }, { text: '129', type: 129, code: null }, { text: '1/4', type: 1, code: 4 },
    { text: '3', type: 3, code: null }, { text: '2/0', type: 2, code: 0 }, { text: '128/0', type: 128, code: 0 },
  ],
};

/** ICMP types the sender can produce, with the connection states conntrack gives them, and codes. */
export const ICMP_PACKET: Record<Family, { type: number; codes: number; states: State[] }[]> = {
  4: [
    { type: 8, codes: 0, states: ['NEW'] }, { type: 13, codes: 0, states: ['NEW'] }, { type: 15, codes: 0, states: ['NEW'] },
    { type: 17, codes: 0, states: ['NEW'] }, { type: 0, codes: 0, states: ['ESTABLISHED', 'INVALID'] },
    { type: 3, codes: 15, states: ['RELATED', 'INVALID'] }, { type: 4, codes: 0, states: ['RELATED', 'INVALID'] },
    { type: 5, codes: 3, states: ['RELATED', 'INVALID'] }, { type: 11, codes: 1, states: ['RELATED', 'INVALID'] },
    { type: 12, codes: 2, states: ['RELATED', 'INVALID'] }, { type: 9, codes: 0, states: ['INVALID'] },
    { type: 10, codes: 0, states: ['INVALID'] }, { type: 14, codes: 0, states: ['INVALID'] }, { type: 18, codes: 0, states: ['INVALID'] },
  ],
  6: [
    { type: 128, codes: 0, states: ['NEW'] }, { type: 139, codes: 0, states: ['NEW'] },
    { type: 129, codes: 0, states: ['ESTABLISHED', 'INVALID'] }, { type: 1, codes: 6, states: ['RELATED', 'INVALID'] },
    { type: 2, codes: 0, states: ['RELATED', 'INVALID'] }, { type: 3, codes: 1, states: ['RELATED', 'INVALID'] },
    { type: 4, codes: 2, states: ['RELATED', 'INVALID'] },
  ],
};
/** Names fwlens must understand for exact (type, code) pairs on packets. */
const ICMP_PACKET_NAMES: Record<Family, Record<string, string>> = {
  4: { '8/0': 'echo-request', '0/0': 'echo-reply', '3/3': 'port-unreachable', '3/1': 'host-unreachable', '11/0': 'ttl-zero-during-transit', '13/0': 'timestamp-request' },
  6: { '128/0': 'echo-request', '129/0': 'echo-reply', '1/4': 'port-unreachable', '1/0': 'no-route', '3/0': 'ttl-zero-during-transit' },
};

const ICMP: Record<Family, number> = { 4: 1, 6: 58 };
const ESP = 50;

const USER_CHAINS = ['ssh-in', 'web', 'LOGDROP', 'svc_udp', 'trusted', 'icmp-ok', 'blocklist', 'c.4', 'Allow_Mgmt', 'from-lan'];

// ------------------------------------------------------------------------------------------------
// rulesets

interface Ctx {
  rng: Rng;
  family: Family;
  srcValues: bigint[];
  dstValues: bigint[];
  ports: number[];
}

export interface GenOptions {
  family: Family;
  /** Rules in INPUT (min, max). */
  inputRules?: [number, number];
}

export function generateRuleset(seed: number, opts: GenOptions): Ruleset {
  const rng = new Rng(seed);
  const family = opts.family;
  const ctx: Ctx = { rng, family, srcValues: [], dstValues: [], ports: [] };
  const nUser = rng.weighted<number>([[2, 0], [3, 1], [3, 2], [2, 3], [1, 4]]);
  const userChains = rng.shuffle([...USER_CHAINS]).slice(0, nUser);
  const policy = rng.chance(0.6) ? 'DROP' : 'ACCEPT';
  const [lo, hi] = opts.inputRules ?? [4, 14];

  // Rules per chain, in chain order. A chain may jump only to chains after it: no loops.
  const order = ['INPUT', ...userChains];
  const drafts = new Map<string, Draft[]>();
  for (let ci = 0; ci < order.length; ci++) {
    const chain = order[ci];
    const later = order.slice(ci + 1);
    const n = chain === 'INPUT' ? rng.int(lo, hi) : rng.int(1, 7);
    const list: Draft[] = [];
    for (let i = 0; i < n; i++) list.push(genRule(ctx, chain, later));
    drafts.set(chain, list);
  }
  // Every user chain should be reachable: make sure something jumps to it.
  for (let ci = 1; ci < order.length; ci++) {
    const chain = order[ci];
    const reached = [...drafts.values()].some((l) => l.some((r) => r.to === chain));
    if (!reached) {
      const from = order[rng.int(0, ci - 1)];
      const list = drafts.get(from)!;
      const at = rng.int(0, list.length);
      list.splice(at, 0, genRule(ctx, from, [chain], rng.chance(0.8) ? 'JUMP' : 'GOTO', chain));
    }
  }

  // Lay out the file, in the several ways iptables-restore accepts.
  const counters = rng.chance(0.1); // `[0:0] -A …`, as iptables-save -c writes
  const setPolicyLate = rng.chance(0.05); // `-P INPUT DROP` after the rules overrides the header
  const lines: string[] = [];
  if (rng.chance(0.5)) lines.push('# Generated by iptables-save v1.8.9 (nf_tables) on Mon Jan  1 00:00:00 2024');
  lines.push('*filter');
  let policyLine = lines.length;
  const headerPolicyLine = lines.length;
  lines.push(`:INPUT ${setPolicyLate ? rng.pick(['ACCEPT', 'DROP']) : policy} [0:0]`);
  lines.push(`:FORWARD ${rng.chance(0.5) ? 'DROP' : 'ACCEPT'} [0:0]`);
  lines.push(`:OUTPUT ACCEPT [0:0]`);
  for (const c of rng.shuffle([...userChains])) lines.push(rng.chance(0.1) ? `-N ${c}` : `:${c} - [0:0]`);
  const rules: GenRule[] = [];
  const byChain = new Map<string, GenRule[]>(order.map((c) => [c, []]));
  const queue = order.flatMap((c) => drafts.get(c)!.map((d) => ({ chain: c, d })));
  // Sometimes interleave the chains' lines (iptables-restore keeps each chain's order).
  if (rng.chance(0.3)) {
    const cursors = new Map(order.map((c) => [c, 0]));
    const mixed: typeof queue = [];
    while (mixed.length < queue.length) {
      const open = order.filter((c) => cursors.get(c)! < drafts.get(c)!.length);
      const c = rng.pick(open);
      const i = cursors.get(c)!;
      mixed.push({ chain: c, d: drafts.get(c)![i] });
      cursors.set(c, i + 1);
    }
    queue.splice(0, queue.length, ...mixed);
  }
  const other = family === 4 ? '-6' : '-4';
  const own = family === 4 ? '-4' : '-6';
  for (const { chain, d } of queue) {
    if (rng.chance(0.04)) lines.push('');
    if (rng.chance(0.04)) lines.push(`# ${chain} rule`);
    const list = byChain.get(chain)!;
    // -I inserts (at 1 or at a position); with several addresses its expansion order is murky, so not then.
    const insert = d.variants.length === 1 && rng.chance(0.04) ? rng.int(1, list.length + 1) : 0;
    const skipped = rng.chance(0.02); // a `-6` rule in an IPv4 file (or `-4` in IPv6): iptables-restore skips it
    const flag = skipped ? `${other} ` : rng.chance(0.02) ? `${own} ` : '';
    const command = insert ? (insert === 1 && rng.chance(0.5) ? `-I ${chain}` : `-I ${chain} ${insert}`) : `-A ${chain}`;
    const text = `${counters ? `[${rng.int(0, 99)}:${rng.int(0, 9999)}] ` : ''}${flag}${command} ${d.text}`;
    const line = lines.length;
    lines.push(text);
    if (skipped) continue;
    const made = d.variants.map((conds) => ({ chain, index: 0, line, text, conds, target: d.target, to: d.to }));
    if (insert) list.splice(insert - 1, 0, ...made);
    else list.push(...made);
    rules.push(...made);
  }
  if (setPolicyLate) {
    policyLine = lines.length;
    lines.push(`-P INPUT ${policy}`);
  }
  lines.push('COMMIT');
  if (rng.chance(0.5)) lines.push('# Completed on Mon Jan  1 00:00:00 2024');
  for (const list of byChain.values()) list.forEach((r, i) => (r.index = i));
  return {
    family, seed, text: lines.join('\n') + '\n', policy, policyLine, policyLines: [...new Set([policyLine, headerPolicyLine])],
    userChains, rules, byChain, srcValues: ctx.srcValues, dstValues: ctx.dstValues, ports: [...new Set(ctx.ports)],
  };
}

interface Draft {
  text: string;
  /** iptables expands `-s a,b -d c` into one kernel rule per address pair: their conditions. */
  variants: Cond[][];
  target: Target;
  to?: string;
}

function genRule(ctx: Ctx, chain: string, later: string[], forceTarget?: Target, forceTo?: string): Draft {
  const { rng, family } = ctx;
  const conds: Cond[] = [];
  const pre: string[][] = []; // groups placed before -p
  const post: string[][] = []; // module groups placed after -p
  let protoPart: string[] = [];
  const long = rng.chance(0.08); // long option spellings now and then
  const bang = (neg: boolean) => (neg ? ['!'] : []);

  // protocol
  const protoKind = rng.weighted<string>([[34, 'none'], [26, 'tcp'], [15, 'udp'], [12, 'icmp'], [3, 'esp'], [6, 'neg'], [2, 'all']]);
  let proto: number | null = null; // positive protocol, for port and icmp matches
  if (protoKind === 'tcp' || protoKind === 'udp') {
    proto = protoKind === 'tcp' ? 6 : 17;
    protoPart = [long ? '--protocol' : '-p', rng.chance(0.1) ? String(proto) : rng.chance(0.05) ? protoKind.toUpperCase() : protoKind];
    conds.push({ k: 'proto', neg: false, num: proto });
  } else if (protoKind === 'icmp' && family === 6 && rng.chance(0.06)) {
    // `-p icmp` in ip6tables is protocol 1, which no ICMPv6 packet carries.
    protoPart = ['-p', 'icmp'];
    conds.push({ k: 'proto', neg: false, num: 1 });
  } else if (protoKind === 'icmp') {
    proto = ICMP[family];
    const name = family === 4 ? (rng.chance(0.1) ? '1' : 'icmp') : rng.pick(['icmpv6', 'ipv6-icmp', 'icmpv6', '58']);
    protoPart = ['-p', name];
    conds.push({ k: 'proto', neg: false, num: proto });
  } else if (protoKind === 'esp') {
    protoPart = ['-p', rng.chance(0.5) ? 'esp' : '50'];
    conds.push({ k: 'proto', neg: false, num: ESP });
  } else if (protoKind === 'neg') {
    const [name, num] = rng.pick<[string, number]>([['tcp', 6], ['udp', 17], family === 4 ? ['icmp', 1] : ['ipv6-icmp', 58]]);
    protoPart = ['!', '-p', name];
    conds.push({ k: 'proto', neg: true, num });
  } else if (protoKind === 'all') {
    protoPart = ['-p', rng.chance(0.7) ? 'all' : '0'];
  }

  // addresses; `-s a,b` (never negated) becomes one kernel rule per address
  const alts: Record<'src' | 'dst', Cond[] | undefined> = { src: undefined, dst: undefined };
  for (const dir of ['src', 'dst'] as const) {
    if (!rng.chance(dir === 'src' ? 0.35 : 0.25)) continue;
    const opt = dir === 'src' ? (long ? '--source' : '-s') : (long ? '--destination' : '-d');
    if (rng.chance(0.1) && !conds.some((c) => (c.k === 'src' || c.k === 'dst') && c.neg)) {
      const ps = Array.from({ length: rng.int(2, 3) }, () => genPrefix(ctx, dir));
      pre.push([opt, ps.map((p) => p.text).join(',')]);
      alts[dir] = ps.map((p) => ({ k: dir, neg: false, lo: p.lo, hi: p.hi }));
      continue;
    }
    const p = genPrefix(ctx, dir);
    // iptables-nft cannot load `! -s 0.0.0.0/0`; `!` is refused next to an address list.
    const neg = rng.chance(0.12) && p.len > 0 && !alts.src;
    pre.push([...bang(neg), opt, p.text]);
    conds.push({ k: dir, neg, lo: p.lo, hi: p.hi });
  }
  const ranges: string[] = [];
  for (const dir of ['src', 'dst'] as const) {
    if (!rng.chance(dir === 'src' ? 0.08 : 0.06)) continue;
    const neg = rng.chance(0.2);
    const r = genRange(ctx, dir);
    // A reversed range loads (the kernel warns) and never matches: lo > hi keeps that in the model.
    const [a, b] = rng.chance(0.03) && r.lo !== r.hi ? [r.hi, r.lo] : [r.lo, r.hi];
    ranges.push(...bang(neg), dir === 'src' ? '--src-range' : '--dst-range', `${writeIp(ctx, a)}-${writeIp(ctx, b)}`);
    conds.push({ k: dir, neg, lo: a, hi: b });
  }
  if (ranges.length) post.push(['-m', 'iprange', ...ranges]);

  // interfaces
  if (rng.chance(0.25)) {
    const neg = rng.chance(0.2);
    const pat = rng.pick(RULE_IFACES);
    pre.push([...bang(neg), long ? '--in-interface' : '-i', pat]);
    conds.push({ k: 'in', neg, pat });
  }
  if (chain !== 'INPUT' && rng.chance(0.04)) {
    const neg = rng.chance(0.5);
    const pat = rng.pick(RULE_IFACES);
    pre.push([...bang(neg), '-o', pat]);
    conds.push({ k: 'out', neg, pat });
  }

  // ports
  if (proto === 6 || proto === 17) {
    const pname = proto === 6 ? 'tcp' : 'udp';
    const explicit = rng.chance(0.3) ? ['-m', pname] : [];
    const portOpts: string[] = [];
    const kind = rng.weighted<string>([[30, 'single'], [15, 'range'], [16, 'multi'], [5, 'named'], [4, 'multiports'], [30, 'none']]);
    // Two iptables-nft 1.8.9 translation bugs make the kernel disagree with iptables' documented
    // semantics, so the generator steers clear of them (see the suite's README notes in iptables.test.ts):
    //  - `! --sport A ! --dport B` becomes one 4-byte `!=` compare: NOT (sport A AND dport B);
    //  - `! --dport 0:65535` is dropped altogether (the rule then matches every port).
    const full = (r: [number, number]) => r[0] === 0 && r[1] === 65535;
    let dportNeg = false;
    if (kind === 'single' || kind === 'range' || kind === 'named') {
      const p = kind === 'named' ? namedPort(ctx, pname) : kind === 'single' ? singlePort(ctx) : portRange(ctx);
      const neg = rng.chance(0.08) && !full(p.range);
      dportNeg = neg;
      portOpts.push(...bang(neg), long ? '--destination-port' : '--dport', p.text);
      conds.push({ k: 'dport', neg, ranges: [p.range] });
    }
    if (rng.chance(0.15)) {
      const p = rng.chance(0.5) ? portRange(ctx) : singlePort(ctx);
      const neg = rng.chance(0.1) && !full(p.range) && !dportNeg;
      portOpts.push(...bang(neg), long ? '--source-port' : '--sport', p.text);
      conds.push({ k: 'sport', neg, ranges: [p.range] });
    }
    if (portOpts.length) protoPart.push(...explicit, ...portOpts);
    if (kind === 'multi' || kind === 'multiports') {
      const neg = rng.chance(0.1);
      const m = multiPorts(ctx);
      const which = kind === 'multiports' ? 'port' : rng.chance(0.8) ? 'dport' : 'sport';
      const opt = which === 'port' ? '--ports' : which === 'dport' ? (long ? '--destination-ports' : '--dports') : (long ? '--source-ports' : '--sports');
      post.push(['-m', 'multiport', ...bang(neg), opt, m.text]);
      conds.push({ k: which, neg, ranges: m.ranges });
    }
  } else if (proto === ICMP[family] && rng.chance(0.6)) {
    const t = rng.pick(ICMP_RULE_TYPES[family]);
    const neg = t.type !== null && rng.chance(0.08);
    const explicit = rng.chance(0.3) ? ['-m', family === 4 ? 'icmp' : 'icmp6'] : [];
    protoPart.push(...explicit, ...bang(neg), family === 4 ? '--icmp-type' : '--icmpv6-type', t.text);
    conds.push({ k: 'icmp', neg, type: t.type, code: t.code });
  }

  // connection state
  if (rng.chance(0.22)) {
    const neg = rng.chance(0.1);
    const states = rng.shuffle([...STATES]).slice(0, rng.int(1, 3));
    const list = states.join(',');
    post.push(rng.chance(0.6) ? ['-m', 'conntrack', ...bang(neg), '--ctstate', list] : ['-m', 'state', ...bang(neg), '--state', list]);
    conds.push({ k: 'state', neg, states });
  }
  if (rng.chance(0.12)) {
    post.push(['-m', 'comment', '--comment', rng.pick(['"allow web"', 'ssh', '"drop: bad stuff"', '"rule #7"', 'mgmt-only', '"not -j DROP, -p udp"'])]);
  }

  // A terminal rule with no condition at all ends its chain; keep those rare.
  if (!conds.length && !alts.src && !alts.dst && rng.chance(0.6)) {
    const p = genPrefix(ctx, 'src');
    pre.push(['-s', p.text]);
    conds.push({ k: 'src', neg: false, lo: p.lo, hi: p.hi });
  }

  // target
  const inInput = chain === 'INPUT';
  const target: Target = forceTarget ?? rng.weighted<Target>([
    [24, 'ACCEPT'], [18, 'DROP'], [11, 'REJECT'], [9, 'LOG'], [5, 'MARK'],
    [later.length ? (inInput ? 14 : 10) : 0, 'JUMP'], [later.length ? 5 : 0, 'GOTO'], [inInput ? 2 : 14, 'RETURN'],
  ]);
  let targetPart: string[];
  let to: string | undefined;
  switch (target) {
    case 'ACCEPT':
    case 'DROP':
      targetPart = [long ? '--jump' : '-j', target];
      break;
    case 'REJECT': {
      const tcpOnly = proto === 6 ? ['tcp-reset'] : [];
      const withs = family === 4
        ? ['', '', 'icmp-port-unreachable', 'icmp-host-prohibited', 'icmp-admin-prohibited', 'icmp-net-unreachable', ...tcpOnly]
        : ['', '', 'icmp6-port-unreachable', 'icmp6-adm-prohibited', 'icmp6-no-route', ...tcpOnly];
      const w = rng.pick(withs);
      targetPart = ['-j', 'REJECT', ...(w ? ['--reject-with', w] : [])];
      break;
    }
    case 'LOG':
      targetPart = ['-j', 'LOG', ...rng.pick([[], ['--log-prefix', '"IN: "'], ['--log-prefix', 'fw-drop'], ['--log-level', '4'], ['--log-prefix', '"[x] "', '--log-level', 'info']])];
      break;
    case 'MARK':
      targetPart = ['-j', 'MARK', ...rng.pick([['--set-mark', '0x1'], ['--set-mark', '7'], ['--set-xmark', '0x2/0xff']])];
      break;
    case 'RETURN':
      targetPart = ['-j', 'RETURN'];
      break;
    case 'JUMP':
    case 'GOTO':
      to = forceTo ?? rng.pick(later);
      targetPart = [target === 'JUMP' ? (long ? '--jump' : '-j') : (long ? '--goto' : '-g'), to];
      break;
  }

  rng.shuffle(pre);
  rng.shuffle(post);
  const parts = [...pre.flat(), ...protoPart, ...post.flat(), ...targetPart];
  const variants: Cond[][] = [];
  for (const s of alts.src ?? [undefined]) for (const d of alts.dst ?? [undefined]) variants.push([...conds, ...(s ? [s] : []), ...(d ? [d] : [])]);
  return { text: parts.join(' '), variants, target, to };
}

function genPrefix(ctx: Ctx, dir: 'src' | 'dst'): { text: string; lo: bigint; hi: bigint; len: number } {
  const { rng, family } = ctx;
  const pool = parseCidr(rng.pick(dir === 'src' ? SRC_POOLS[family] : DST_POOLS[family]))!;
  const values = dir === 'src' ? ctx.srcValues : ctx.dstValues;
  // Reuse an address already mentioned now and then, so rules overlap.
  const addr = values.length && rng.chance(0.3) ? rng.pick(values) : rng.bigBetween(pool.lo, pool.hi);
  const full = BITS[family];
  let len = family === 4
    ? rng.weighted<number>([[1, 8], [1, 12], [3, 16], [2, 20], [5, 24], [2, 26], [2, 28], [1, 30], [4, 32]])
    : rng.weighted<number>([[1, 16], [1, 24], [2, 32], [1, 40], [3, 48], [2, 56], [4, 64], [1, 96], [1, 112], [1, 120], [3, 128]]);
  if (len < pool.len && rng.chance(0.7)) len = Math.min(full, pool.len + rng.int(0, 8));
  if (rng.chance(0.03)) len = 0;
  const { lo, hi } = prefixBounds(family, addr, len);
  values.push(lo, hi, addr);
  let text: string;
  const shown = len < full && addr !== lo && rng.chance(0.08) ? addr : lo; // sometimes with host bits set
  if (len === full && rng.chance(0.5)) text = writeIp(ctx, lo);
  else if (family === 4 && rng.chance(0.06)) text = `${writeIp(ctx, shown)}/${formatIp(4, mask(4, len))}`; // dotted netmask
  else text = `${writeIp(ctx, shown)}/${len}`;
  return { text, lo, hi, len };
}

/** An address as people write them: IPv6 now and then uncompressed, zero-padded or in capitals. */
function writeIp(ctx: Ctx, v: bigint): string {
  const { rng, family } = ctx;
  if (family === 4 || !rng.chance(0.12)) return formatIp(family, v);
  const groups = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt((7 - i) * 16)) & 0xffffn).toString(16));
  const style = rng.int(0, 2);
  if (style === 0) return groups.join(':');
  if (style === 1) return groups.map((g) => g.padStart(4, '0')).join(':');
  return formatIp(family, v).toUpperCase();
}

function genRange(ctx: Ctx, dir: 'src' | 'dst'): { lo: bigint; hi: bigint } {
  const { rng, family } = ctx;
  const pool = parseCidr(rng.pick(dir === 'src' ? SRC_POOLS[family] : DST_POOLS[family]))!;
  const values = dir === 'src' ? ctx.srcValues : ctx.dstValues;
  const a = values.length && rng.chance(0.3) ? rng.pick(values) : rng.bigBetween(pool.lo, pool.hi);
  const span = BigInt(rng.pick([0, 1, 5, 30, 255, 1000, 70000]));
  const end = a + rng.bigBetween(0n, span);
  const hi = end > pool.hi ? pool.hi : end;
  const r = a <= hi ? { lo: a, hi } : { lo: hi, hi: a };
  values.push(r.lo, r.hi);
  return r;
}

function anyPort(ctx: Ctx): number {
  const { rng } = ctx;
  return ctx.ports.length && rng.chance(0.3) ? rng.pick(ctx.ports) : rng.chance(0.6) ? rng.pick(PORTS) : rng.int(1, 65535);
}

function singlePort(ctx: Ctx): { text: string; range: [number, number] } {
  const p = anyPort(ctx);
  ctx.ports.push(p);
  return { text: String(p), range: [p, p] };
}

function portRange(ctx: Ctx): { text: string; range: [number, number] } {
  const { rng } = ctx;
  const a = anyPort(ctx);
  const b = Math.min(65535, a + rng.pick([1, 2, 10, 100, 1000, 30000]));
  ctx.ports.push(a, b);
  const open = rng.weighted<string>([[10, 'both'], [1, 'lo'], [1, 'hi']]);
  if (open === 'lo') return { text: `:${b}`, range: [0, b] };
  if (open === 'hi') return { text: `${a}:`, range: [a, 65535] };
  return { text: `${a}:${b}`, range: [a, b] };
}

function namedPort(ctx: Ctx, proto: string): { text: string; range: [number, number] } {
  const [name, port] = ctx.rng.pick(SERVICES[proto]);
  ctx.ports.push(port);
  return { text: name, range: [port, port] };
}

function multiPorts(ctx: Ctx): { text: string; ranges: [number, number][] } {
  const { rng } = ctx;
  const items: string[] = [];
  const ranges: [number, number][] = [];
  let slots = 15;
  const n = rng.int(1, 6);
  for (let i = 0; i < n && slots > 0; i++) {
    if (slots >= 2 && rng.chance(0.3)) {
      const r = portRange(ctx);
      let [a, b] = r.range;
      if (a === b) a = b === 0 ? (b = 1, 0) : b - 1; // multiport wants lo < hi
      items.push(`${a}:${b}`);
      ranges.push([a, b]);
      slots -= 2;
    } else {
      const p = singlePort(ctx);
      items.push(p.text);
      ranges.push(p.range);
      slots -= 1;
    }
  }
  return { text: items.join(','), ranges };
}

// ------------------------------------------------------------------------------------------------
// packets

export function ifaceMatches(pat: string, name: string): boolean {
  if (pat.endsWith('+')) return name.startsWith(pat.slice(0, -1));
  return pat === name;
}

function validSrc(family: Family, v: bigint): boolean {
  return v >= 0n && v < 1n << BigInt(BITS[family]) && !inCidrs(family, v, BAD_SRC[family]);
}

function validDst(family: Family, v: bigint): boolean {
  return inCidrs(family, v, LOCAL[family]);
}

function randomSrc(rng: Rng, rs: Ruleset): bigint {
  for (let i = 0; i < 20; i++) {
    const v = rs.srcValues.length && rng.chance(0.5) ? rng.pick(rs.srcValues) + BigInt(rng.pick([0, 0, 0, 1, -1])) : randomIn(rng, rng.pick(SRC_POOLS[rs.family]));
    if (validSrc(rs.family, v)) return v;
  }
  return randomIn(rng, SRC_POOLS[rs.family][0]);
}

function randomDst(rng: Rng, rs: Ruleset): bigint {
  for (let i = 0; i < 20; i++) {
    const v = rs.dstValues.length && rng.chance(0.5) ? rs.dstValues[rng.int(0, rs.dstValues.length - 1)] + BigInt(rng.pick([0, 0, 1, -1])) : randomIn(rng, rng.pick(DST_POOLS[rs.family]));
    if (validDst(rs.family, v)) return v;
  }
  return parseCidr(LOCAL[rs.family][0])!.lo + 7n;
}

function randomIn(rng: Rng, cidr: string): bigint {
  const p = parseCidr(cidr)!;
  return rng.bigBetween(p.lo, p.hi);
}

function randomPort(rng: Rng, rs: Ruleset): number {
  const p = rs.ports.length && rng.chance(0.6) ? rng.pick(rs.ports) + rng.pick([0, 0, 0, 1, -1]) : rng.chance(0.5) ? rng.int(1024, 65535) : rng.pick(PORTS);
  return Math.min(65535, Math.max(1, p));
}

/** A random call path's conditions from INPUT down to `chain` (empty when chain is INPUT). */
function pathConds(rng: Rng, rs: Ruleset, chain: string, depth = 0): Cond[] {
  if (chain === 'INPUT' || depth > 6) return [];
  const callers = rs.rules.filter((r) => r.to === chain);
  if (!callers.length) return [];
  const c = rng.pick(callers);
  return [...pathConds(rng, rs, c.chain, depth + 1), ...c.conds];
}

function pickOutside(rng: Rng, lo: number, hi: number, min: number, max: number): number | undefined {
  const options: number[] = [];
  if (lo > min) options.push(lo - 1, rng.int(min, lo - 1));
  if (hi < max) options.push(hi + 1, rng.int(hi + 1, max));
  return options.length ? rng.pick(options) : undefined;
}

function pickInside(rng: Rng, lo: number, hi: number): number {
  return rng.weighted<number>([[1, lo], [1, hi], [3, rng.int(lo, hi)]]);
}

function pickBigInside(rng: Rng, lo: bigint, hi: bigint): bigint {
  return rng.weighted<bigint>([[1, lo], [1, hi], [3, rng.bigBetween(lo, hi)]]);
}

function icmpEntry(family: Family, type: number | undefined) {
  return ICMP_PACKET[family].find((e) => e.type === type);
}

export function generatePackets(rs: Ruleset, seed: number, count: number): Packet[] {
  const rng = new Rng(seed);
  const out: Packet[] = [];
  const aimable = rs.rules.filter((r) => r.conds.length || TERMINAL.has(r.target));
  for (let n = 0; n < count; n++) {
    // Rules in user chains are harder to reach (their callers' conditions must hold too): aim there more.
    const aim = aimable.length && rng.chance(0.75) ? rng.weighted(aimable.map((r) => [r.chain === 'INPUT' ? 1 : 2, r] as [number, GenRule])) : undefined;
    out.push(makePacket(rng, rs, aim));
  }
  return out;
}

function makePacket(rng: Rng, rs: Ruleset, aim: GenRule | undefined): Packet {
  const family = rs.family;
  const conds = aim ? [...pathConds(rng, rs, aim.chain), ...aim.conds] : [];
  let proto = rng.weighted<number>([[40, 6], [25, 17], [25, ICMP[family]], [5, ESP]]);
  let src = randomSrc(rng, rs);
  let dst = randomDst(rng, rs);
  let sport: number | undefined = randomPort(rng, rs);
  let dport: number | undefined = randomPort(rng, rs);
  let icmpType: number | undefined;
  let icmpCode: number | undefined;
  let iface = rng.pick(RECV_IFACES);
  let state: State | undefined;
  let stateFrom: State[] | undefined;

  // First the protocol (ports and ICMP types depend on it).
  const hasPorts = conds.some((c) => c.k === 'sport' || c.k === 'dport' || c.k === 'port');
  const hasIcmp = conds.some((c) => c.k === 'icmp');
  for (const c of conds) {
    if (c.k !== 'proto') continue;
    if (!c.neg) proto = c.num;
    else if (proto === c.num) proto = rng.pick([6, 17, ICMP[family], ESP].filter((p) => p !== c.num));
  }
  if (!conds.some((c) => c.k === 'proto' && !c.neg)) {
    if (hasPorts) proto = rng.pick([6, 17]);
    else if (hasIcmp) proto = ICMP[family];
  }
  if (family === 6 && proto === 1) proto = 58; // aimed at ip6tables `-p icmp`: send the ICMPv6 it will not match
  for (const c of conds) {
    switch (c.k) {
      case 'src':
      case 'dst': {
        const ok = c.k === 'src' ? validSrc : validDst;
        let v: bigint | undefined;
        for (let i = 0; i < 8 && v === undefined; i++) {
          let cand: bigint;
          if (!c.neg || rng.chance(0.2)) cand = pickBigInside(rng, c.lo, c.hi);
          else cand = rng.chance(0.5) ? (rng.chance(0.5) ? c.lo - 1n : c.hi + 1n) : c.k === 'src' ? randomSrc(rng, rs) : randomDst(rng, rs);
          if (ok(family, cand)) v = cand;
        }
        if (v !== undefined) {
          if (c.k === 'src') src = v;
          else dst = v;
        }
        break;
      }
      case 'in': {
        const want = !c.neg || rng.chance(0.2);
        const names = RECV_IFACES.filter((n) => ifaceMatches(c.pat, n) === want);
        if (names.length) iface = rng.pick(names);
        break;
      }
      case 'sport':
      case 'dport':
      case 'port': {
        const [lo, hi] = rng.pick(c.ranges);
        let v: number | undefined = !c.neg || rng.chance(0.2) ? pickInside(rng, lo, hi) : pickOutside(rng, lo, hi, 1, 65535);
        if (v === 0) v = 1; // port 0 does not travel well; stay just inside/outside instead
        if (v === undefined) break;
        const which = c.k === 'port' ? (rng.chance(0.5) ? 'sport' : 'dport') : c.k;
        if (which === 'sport') sport = v;
        else dport = v;
        break;
      }
      case 'icmp': {
        if (proto !== ICMP[family]) break;
        const entries = ICMP_PACKET[family];
        const fits = (e: { type: number }) => c.type === null || e.type === c.type;
        const want = !c.neg || rng.chance(0.2);
        const candidates = entries.filter((e) => fits(e) === want);
        const e = candidates.length ? rng.pick(candidates) : rng.pick(entries);
        icmpType = e.type;
        icmpCode = c.type === e.type && c.code !== null ? (want ? c.code : (c.code + 1) % (e.codes + 1)) : rng.int(0, e.codes);
        if (icmpCode > e.codes) icmpCode = 0;
        break;
      }
      case 'state': {
        const want = !c.neg || rng.chance(0.2);
        const from = STATES.filter((s) => c.states.includes(s) === want);
        if (from.length) stateFrom = from;
        break;
      }
      case 'out':
      case 'proto':
        break;
    }
  }

  // Small nudges across boundaries now and then.
  if (rng.chance(0.15)) {
    const f = rng.pick(['sport', 'dport', 'src', 'dst']);
    const d = rng.chance(0.5) ? 1 : -1;
    if (f === 'sport' && sport !== undefined) sport = Math.min(65535, Math.max(1, sport + d));
    if (f === 'dport' && dport !== undefined) dport = Math.min(65535, Math.max(1, dport + d));
    if (f === 'src' && validSrc(family, src + BigInt(d))) src += BigInt(d);
    if (f === 'dst' && validDst(family, dst + BigInt(d))) dst += BigInt(d);
  }

  // ICMP type and connection state must be a pair the sender can really produce.
  if (proto === ICMP[family]) {
    let e = icmpEntry(family, icmpType);
    if (!e) {
      const candidates = ICMP_PACKET[family].filter((x) => !stateFrom || x.states.some((s) => stateFrom!.includes(s)));
      e = rng.pick(candidates.length ? candidates : ICMP_PACKET[family]);
      icmpType = e.type;
      icmpCode = rng.int(0, e.codes);
    }
    const ok = e.states.filter((s) => !stateFrom || stateFrom.includes(s));
    state = rng.pick(ok.length ? ok : e.states);
    if (icmpCode === undefined || icmpCode > e.codes) icmpCode = rng.int(0, e.codes);
  } else {
    const possible: State[] = proto === 6 || proto === 17 ? ['NEW', 'ESTABLISHED', 'INVALID'] : ['NEW', 'ESTABLISHED'];
    const ok = possible.filter((s) => !stateFrom || stateFrom.includes(s));
    state = stateFrom && ok.length
      ? rng.pick(ok)
      : rng.weighted<State>(possible.map((s) => [s === 'NEW' ? 4 : s === 'ESTABLISHED' ? 2 : 1, s] as [number, State]));
  }
  if (proto !== 6 && proto !== 17) {
    sport = undefined;
    dport = undefined;
  }
  if (proto !== ICMP[family]) {
    icmpType = undefined;
    icmpCode = undefined;
  }

  // As fwlens reads it.
  const spec: Record<string, string | number> = {
    src: formatIp(family, src),
    dst: formatIp(family, dst),
    proto: protoName(rng, family, proto),
  };
  if (sport !== undefined) spec.sport = sport;
  if (dport !== undefined) spec.dport = dport;
  if (icmpType !== undefined) {
    const key = `${icmpType}/${icmpCode}`;
    const name = ICMP_PACKET_NAMES[family][key];
    spec.icmpType = name && rng.chance(0.3) ? name : icmpCode === 0 && rng.chance(0.3) ? String(icmpType) : key;
  }
  spec.in = iface;
  if (state !== 'NEW' || rng.chance(0.75)) spec.state = state;
  return { family, src, dst, proto, sport, dport, icmpType, icmpCode, in: iface, state, aim: aim ? aim.line : -1, spec };
}

function protoName(rng: Rng, family: Family, proto: number): string {
  if (proto === 6) return 'tcp';
  if (proto === 17) return 'udp';
  if (proto === 1) return 'icmp';
  if (proto === 58) return rng.pick(['icmpv6', 'ipv6-icmp', 'icmpv6']);
  if (proto === ESP) return rng.chance(0.7) ? 'esp' : '50';
  return String(proto);
}

// Random nftables rulesets (ip, ip6 and inet tables; several base chains on the input hook; regular
// chains reached by jump/goto/vmap; named and anonymous sets; verdict maps; defines) and packets
// aimed at their rules, for the nftables kernel differential (nftables.test.ts). Everything is drawn
// from a seeded Rng, so a ruleset and its packets are reproduced from the seed alone.
//
// Two texts are made from one ruleset:
//  - `text`, what fwlens reads (and what a person would write): every rule ends in
//    `counter <verdict> comment "rN"`;
//  - `ktext`, what the kernel loads: the same rules plus instrumentation the harness needs to read
//    the answer back from counters (rules are mapped back by their comment, not by line):
//      * every base chain ends with `counter comment "fwlk-tail-…"` (counts exactly the packets
//        that fall through to the chain's policy);
//      * an anonymous verdict map `vmap { … }` becomes the named map `@fwlk_vmN` with the same
//        elements and the `counter` flag (per-element counters; nft 1.0.6 cannot count elements of
//        an anonymous vmap), declared on the table's first line;
//      * an observer table `inet fwlk_obs` whose input chains run before (priority -1000) and after
//        (priority 1000) every generated base chain: "fwlk-first", "fwlk-last", and the kernel's view
//        of the connection state ("fwlk-ct-NEW", …). None of it has a verdict.
import { BITS, Family, formatIp, inCidrs, parseCidr, prefixBounds } from './addr';
import { BAD_SRC, DST_POOLS, ICMP_PACKET, LOCAL, Packet, RECV_IFACES, SRC_POOLS, State, STATES } from './iptables-gen';
import { Rng } from '../rng';

export type NftFamily = 'ip' | 'ip6' | 'inet';
export type Verdict = 'accept' | 'drop' | 'reject' | 'jump' | 'goto' | 'return' | 'none' | 'vmap';
export type PortProto = 6 | 17 | 'th';

export type NCond =
  | { k: 'l4proto'; neg: boolean; protos: number[] }
  | { k: 'saddr' | 'daddr'; fam: Family; neg: boolean; ranges: [bigint, bigint][] }
  /** `th` ports are only generated after `meta l4proto { tcp, udp }` in the same rule. */
  | { k: 'sport' | 'dport'; proto: PortProto; neg: boolean; ranges: [number, number][] }
  | { k: 'icmp'; fam: Family; neg: boolean; types: number[] }
  | { k: 'iif'; neg: boolean; pats: string[] }
  | { k: 'ct'; neg: boolean; states: State[] };

export interface VmapElem {
  lo: number;
  hi: number;
  verdict: 'accept' | 'drop' | 'jump' | 'goto';
  to?: NChain;
  /** The kernel's name of this element's counter ("@inet/filter/fwlk_vm3#23-25"). */
  key: string;
}

export interface NRule {
  /** The rule's comment, "rN": the kernel's name of its counter. */
  name: string;
  chain: NChain;
  /** 0-based line in `text`. */
  line: number;
  text: string;
  ktext: string;
  conds: NCond[];
  verdict: Verdict;
  to?: NChain;
  vmap?: { proto: PortProto; dir: 'sport' | 'dport'; elems: VmapElem[]; named: boolean };
}

export interface NChain {
  table: NTable;
  name: string;
  /** Base chains only. */
  base?: { prio: number; prioText: string; policy: 'accept' | 'drop'; policyLine: number; tail: string };
  rules: NRule[];
  /** The base chain whose packets this chain sees (itself for a base chain). */
  owner: NChain;
  /** -1 for base chains; regular chains jump only to regular chains of a higher order. */
  order: number;
}

export interface NTable {
  family: NftFamily;
  name: string;
  chains: NChain[];
  decls: string[][];
  kdecls: string[];
}

export interface NRuleset {
  seed: number;
  text: string;
  ktext: string;
  tables: NTable[];
  /** All base chains, in priority order (the order the kernel runs them on the input hook). */
  baseChains: NChain[];
  rules: NRule[];
  byName: Map<string, NRule>;
  /** Element counter name → its rule and element. */
  elems: Map<string, { rule: NRule; elem: VmapElem }>;
  /** Families some base chain sees. */
  families: Family[];
  /** Counters of which exactly one moves once per packet: where its walk ends. */
  finals: string[];
  srcValues: Record<Family, bigint[]>;
  dstValues: Record<Family, bigint[]>;
  ports: number[];
}

export const ICMP: Record<Family, number> = { 4: 1, 6: 58 };
export const ESP = 50;
export const OBSERVER_CT = STATES.map((s) => `fwlk-ct-${s}`);

const ICMP_NAMES: Record<Family, [string, number][]> = {
  4: [['echo-reply', 0], ['destination-unreachable', 3], ['source-quench', 4], ['redirect', 5], ['echo-request', 8],
    ['router-advertisement', 9], ['router-solicitation', 10], ['time-exceeded', 11], ['parameter-problem', 12],
    ['timestamp-request', 13], ['timestamp-reply', 14], ['info-request', 15], ['info-reply', 16],
    ['address-mask-request', 17], ['address-mask-reply', 18]],
  6: [['destination-unreachable', 1], ['packet-too-big', 2], ['time-exceeded', 3], ['parameter-problem', 4],
    ['echo-request', 128], ['echo-reply', 129], ['mld-listener-query', 130], ['nd-router-solicit', 133],
    ['nd-neighbor-solicit', 135], ['nd-neighbor-advert', 136]],
};
const PORTS = [22, 23, 25, 53, 80, 123, 443, 1024, 3306, 5432, 8080, 8443, 1, 65535, 1023, 6000, 51820];
const IF_PATTERNS = ['eth0', 'eth1', 'eth*', 'veth0', 'veth1*', 'veth*', 'wan0', 'wan*', 'ens3', 'en*', 'e*', 'lo', 'ppp0', 'tun*', 'docker0'];
const BASE_NAMES = ['input', 'in_early', 'filter_in', 'guard', 'late', 'INPUT', 'base-5'];
const REG_NAMES = ['ssh_in', 'web', 'svc-udp', 'trusted', 'icmp_ok', 'blocklist', 'from_lan', 'mgmt', 'c.4', 'Allow'];
const TABLE_NAMES = ['filter', 'fw', 't2', 'host', 'edge'];
const PRIO_NAMES: [string, number][] = [['raw', -300], ['mangle', -150], ['filter', 0], ['security', 50]];

const famOf = (f: NftFamily, rng: Rng): Family => (f === 'ip' ? 4 : f === 'ip6' ? 6 : rng.chance(0.6) ? 4 : 6);
export const tableSees = (t: NftFamily, f: Family): boolean => t === 'inet' || (t === 'ip' ? f === 4 : f === 6);

interface Ctx {
  rng: Rng;
  rs: NRuleset;
  defines: string[];
  nextDefine: number;
  nextSet: number;
  nextRule: number;
}

// ------------------------------------------------------------------------------------------------
// rulesets

export function generateNftRuleset(seed: number): NRuleset {
  const rng = new Rng(seed);
  const rs: NRuleset = {
    seed, text: '', ktext: '', tables: [], baseChains: [], rules: [], byName: new Map(), elems: new Map(), families: [], finals: [],
    srcValues: { 4: [], 6: [] }, dstValues: { 4: [], 6: [] }, ports: [],
  };
  const ctx: Ctx = { rng, rs, defines: [], nextDefine: 0, nextSet: 0, nextRule: 1 };

  // Tables and their base chains (priorities distinct over the whole hook: equal ones run in an
  // order the ruleset does not say).
  const nTables = rng.weighted<number>([[5, 1], [4, 2], [1, 3]]);
  const names = rng.shuffle([...TABLE_NAMES]);
  const prios = new Set<number>();
  let nBase = 0;
  for (let t = 0; t < nTables; t++) {
    const family = rng.weighted<NftFamily>([[5, 'inet'], [3, 'ip'], [2, 'ip6']]);
    const table: NTable = { family, name: names[t], chains: [], decls: [], kdecls: [] };
    rs.tables.push(table);
    const nb = nBase >= 4 ? 1 : rng.weighted<number>([[6, 1], [3, 2], [1, 3]]);
    const baseNames = rng.shuffle([...BASE_NAMES]);
    for (let b = 0; b < nb; b++, nBase++) {
      let prio = 0;
      let prioText = '';
      for (let tries = 0; tries < 50; tries++) {
        if (rng.chance(0.5)) {
          prio = rng.pick([-200, -100, -10, -5, -1, 0, 1, 5, 10, 20, 100, 300, rng.int(-320, 320)]);
          prioText = String(prio);
        } else {
          const [n, v] = rng.pick(PRIO_NAMES);
          const off = rng.pick([0, 0, 1, 5, 10, -5, -10, 20]);
          prio = v + off;
          prioText = off === 0 ? n : off > 0 ? `${n} + ${off}` : `${n} - ${-off}`;
        }
        if (!prios.has(prio)) break;
      }
      if (prios.has(prio)) continue;
      prios.add(prio);
      const chain: NChain = {
        table, name: baseNames[b], rules: [], order: -1, owner: undefined as unknown as NChain,
        base: { prio, prioText, policy: rng.chance(0.5) ? 'drop' : 'accept', policyLine: -1, tail: '' },
      };
      chain.owner = chain;
      chain.base!.tail = `fwlk-tail-${table.family}-${table.name}-${chain.name}`;
      table.chains.push(chain);
      rs.baseChains.push(chain);
    }
    // Regular chains, each owned by one base chain of this table (so its counters say which).
    const bases = table.chains.slice();
    const nReg = rng.weighted<number>([[3, 0], [4, 1], [3, 2], [1, 3]]);
    const regNames = rng.shuffle([...REG_NAMES]);
    for (let r = 0; r < nReg; r++) {
      const owner = rng.pick(bases);
      table.chains.push({ table, name: regNames[r], rules: [], order: r, owner });
    }
  }
  rs.baseChains.sort((a, b) => a.base!.prio - b.base!.prio);
  const fams = new Set<Family>();
  for (const c of rs.baseChains) for (const f of [4, 6] as const) if (tableSees(c.table.family, f)) fams.add(f);
  rs.families = [...fams].sort();

  // Rules. Chains are filled in order; jumps go only to regular chains of the same owner with a
  // higher order: no loops, and every chain's counters belong to one base chain.
  for (const table of rs.tables) {
    for (const chain of table.chains) {
      const later = table.chains.filter((c) => !c.base && c.owner === chain.owner && c.order > chain.order);
      const n = chain.base ? rng.int(2, 9) : rng.int(1, 5);
      for (let i = 0; i < n; i++) chain.rules.push(genRule(ctx, chain, later));
    }
    // Every regular chain is reached from somewhere.
    for (const chain of table.chains) {
      if (chain.base) continue;
      const reached = table.chains.some((c) => c.rules.some((r) => r.to === chain || r.vmap?.elems.some((e) => e.to === chain)));
      if (reached) continue;
      const from = rng.pick(table.chains.filter((c) => c.owner === chain.owner && (c.base || c.order < chain.order)));
      const at = rng.int(0, from.rules.length);
      from.rules.splice(at, 0, genRule(ctx, from, [chain], rng.chance(0.8) ? 'jump' : 'goto', chain));
    }
  }
  layout(ctx);
  return rs;
}

function genRule(ctx: Ctx, chain: NChain, later: NChain[], forceVerdict?: Verdict, forceTo?: NChain): NRule {
  const { rng } = ctx;
  const table = chain.table;
  const name = `r${ctx.nextRule++}`;
  const parts: string[] = [];
  const conds: NCond[] = [];
  const add = (text: string, cond?: NCond) => {
    parts.push(text);
    if (cond) conds.push(cond);
  };

  let verdict: Verdict = forceVerdict ?? rng.weighted<Verdict>([
    [30, 'accept'], [20, 'drop'], [6, 'reject'], [later.length ? 10 : 0, 'jump'], [later.length ? 4 : 0, 'goto'],
    [chain.base ? 0 : 7, 'return'], [7, 'none'], [10, 'vmap'],
  ]);

  const canFam = (f: Family) => tableSees(table.family, f);
  // protocol (a vmap rule keeps to the ports its key reads)
  const noVmap = verdict === 'vmap' ? 0 : 1;
  const kind = rng.weighted<string>([[30, 'none'], [22, 'tcp'], [14, 'udp'], [6, 'th'], [canFam(4) ? 8 * noVmap : 0, 'icmp'], [canFam(6) ? 8 * noVmap : 0, 'icmpv6'], [8 * noVmap, 'l4proto']]);
  // Which family the rule's addresses talk about (the ICMP one's, when it has one).
  const fam: Family = kind === 'icmp' ? 4 : kind === 'icmpv6' ? 6 : famOf(table.family, rng);
  let portProto: PortProto | undefined;
  if (kind === 'tcp' || kind === 'udp') portProto = kind === 'tcp' ? 6 : 17;
  if (kind === 'th') {
    portProto = 'th';
    add('meta l4proto { tcp, udp }', { k: 'l4proto', neg: false, protos: [6, 17] });
  }
  if (kind === 'l4proto') {
    const choices: [string, number][] = [['tcp', 6], ['udp', 17], ['esp', ESP], ['50', ESP], ['6', 6]];
    if (canFam(4)) choices.push(['icmp', 1]);
    if (canFam(6)) choices.push([rng.pick(['icmpv6', 'ipv6-icmp']), 58]);
    const pickd = rng.shuffle([...choices]).slice(0, rng.int(1, 3));
    const uniq = [...new Map(pickd.map(([n, v]) => [v, n])).entries()];
    const neg = rng.chance(0.2);
    const text = uniq.length === 1 && rng.chance(0.7) ? uniq[0][1] : `{ ${uniq.map(([, n]) => n).join(', ')} }`;
    add(`meta l4proto ${neg ? '!= ' : ''}${text}`, { k: 'l4proto', neg, protos: uniq.map(([v]) => v) });
  }

  // addresses
  for (const dir of ['saddr', 'daddr'] as const) {
    if (!rng.chance(dir === 'saddr' ? 0.35 : 0.2)) continue;
    const a = genAddrMatch(ctx, table, fam, dir);
    add(a.text, a.cond);
  }

  // interface
  if (rng.chance(0.2)) {
    const neg = rng.chance(0.2);
    const form = rng.weighted<string>([[6, 'one'], [2, 'set'], [1, 'define']]);
    let pats: string[];
    let text: string;
    if (form === 'set') {
      pats = rng.shuffle([...IF_PATTERNS]).slice(0, rng.int(2, 3));
      text = `{ ${pats.map((p) => `"${p}"`).join(', ')} }`;
    } else {
      pats = [rng.pick(IF_PATTERNS)];
      text = `"${pats[0]}"`;
      if (form === 'define') text = define(ctx, 'IF', text);
    }
    add(`iifname ${neg ? '!= ' : ''}${text}`, { k: 'iif', neg, pats });
  }

  // ports / icmp types
  if (portProto !== undefined) {
    const pname = portProto === 6 ? 'tcp' : portProto === 17 ? 'udp' : 'th';
    if (verdict !== 'vmap' || rng.chance(0.3)) {
      const dirs: ('dport' | 'sport')[] = rng.chance(0.8) ? ['dport'] : rng.chance(0.5) ? ['sport'] : ['dport', 'sport'];
      // nft 1.0.6 merges two adjacent `!=` payload compares (`udp dport != A udp sport != B`) into
      // one compare of both fields, which means NOT(A and B): only one of them is negated here.
      let negated = false;
      for (const dir of dirs) {
        if (rng.chance(0.2) && verdict !== 'vmap') continue;
        const p = genPortMatch(ctx, table);
        const neg: boolean = p.neg && !negated;
        negated ||= neg;
        add(`${pname} ${dir} ${neg ? '!= ' : ''}${p.text}`, { k: dir, proto: portProto, neg, ranges: p.ranges });
      }
    }
  } else if (kind === 'icmp' || kind === 'icmpv6') {
    const f: Family = kind === 'icmp' ? 4 : 6;
    if (rng.chance(0.75)) {
      const neg = rng.chance(0.15);
      const n = rng.weighted<number>([[5, 1], [2, 2], [1, 3]]);
      const types: number[] = [];
      const words: string[] = [];
      for (let i = 0; i < n; i++) {
        const useNum = rng.chance(0.25);
        const packetTypes = ICMP_PACKET[f].map((e) => e.type);
        const t = rng.chance(0.7) ? rng.pick(packetTypes) : rng.pick(ICMP_NAMES[f])[1];
        if (types.includes(t)) continue;
        const named = ICMP_NAMES[f].find(([, v]) => v === t);
        types.push(t);
        words.push(named && !useNum ? named[0] : String(t));
      }
      const text = words.length === 1 ? words[0] : `{ ${words.join(', ')} }`;
      add(`${kind} type ${neg ? '!= ' : ''}${text}`, { k: 'icmp', fam: f, neg, types });
    } else {
      // the protocol alone, through the dependency `icmp type` would add
      add(`meta l4proto ${f === 4 ? 'icmp' : rng.pick(['icmpv6', 'ipv6-icmp'])}`, { k: 'l4proto', neg: false, protos: [ICMP[f]] });
    }
  }

  // connection state
  if (rng.chance(0.22)) {
    const neg = rng.chance(0.15);
    const states = rng.shuffle([...STATES]).slice(0, rng.int(1, 3));
    const words = states.map((s) => s.toLowerCase());
    // nft 1.0.6 compiles `ct state != a,b` (a comma list, not a set) to one whole-value compare,
    // `ct state != (a|b)`, true for every packet; newer nft and fwlens read it as "none of a, b".
    // Not generated (it would test nft's translation, not the ruleset's meaning); `!= { a, b }` is.
    const text = words.length === 1 ? words[0] : rng.chance(0.5) && !neg ? words.join(',') : `{ ${words.join(', ')} }`;
    add(`ct state ${neg ? '!= ' : ''}${text}`, { k: 'ct', neg, states });
  }

  // A rule without conditions ends its chain (or is a plain counter); keep those rare.
  if (!conds.length && !forceVerdict && verdict !== 'none' && rng.chance(0.6)) {
    const p = genAddrMatch(ctx, table, fam, 'saddr');
    add(p.text, p.cond);
  }

  // the verdict
  let to: NChain | undefined;
  let vmap: NRule['vmap'];
  let ktextTail: string | undefined;
  if (verdict === 'vmap') {
    const proto: PortProto = portProto ?? (rng.chance(0.6) ? 6 : 17);
    const dir = rng.chance(0.85) ? 'dport' : 'sport';
    const pname = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'th';
    const ranges = disjointPorts(ctx, rng.int(1, 4));
    const named = rng.chance(0.4);
    const mapName = named ? `vm${ctx.nextSet++}` : `fwlk_vm${name.slice(1)}`;
    const elems: VmapElem[] = ranges.map(([lo, hi]) => {
      const v = rng.weighted<VmapElem['verdict']>([[5, 'accept'], [4, 'drop'], [later.length ? 2 : 0, 'jump'], [later.length ? 1 : 0, 'goto']]);
      const e: VmapElem = { lo, hi, verdict: v, key: `@${table.family}/${table.name}/${mapName}#${lo === hi ? lo : `${lo}-${hi}`}` };
      if (v === 'jump' || v === 'goto') e.to = rng.pick(later);
      return e;
    });
    const elemText = elems.map((e) => `${e.lo === e.hi ? e.lo : `${e.lo}-${e.hi}`} : ${e.verdict}${e.to ? ` ${e.to.name}` : ''}`).join(', ');
    const interval = elems.some((e) => e.lo !== e.hi);
    const decl = `map ${mapName} { type inet_service : verdict;${interval ? ' flags interval;' : ''} counter; elements = { ${elemText} } }`;
    if (named) {
      table.decls.push(rng.chance(0.5) ? [decl] : [
        `map ${mapName} {`, '  type inet_service : verdict', ...(interval ? ['  flags interval'] : []), '  counter', `  elements = { ${elemText} }`, '}',
      ]);
      parts.push(`${pname} ${dir} vmap @${mapName}`);
    } else {
      table.kdecls.push(decl);
      ktextTail = `${pname} ${dir} vmap @${mapName}`;
      parts.push(`${pname} ${dir} vmap { ${elemText} }`);
    }
    vmap = { proto, dir, elems, named };
  } else {
    let v: string = verdict;
    if (verdict === 'jump' || verdict === 'goto') {
      to = forceTo ?? rng.pick(later);
      v = `${verdict} ${to.name}`;
    }
    const tcpPorts = conds.filter((c) => c.k === 'dport' || c.k === 'sport');
    if (verdict === 'reject' && portProto === 6 && tcpPorts.length && rng.chance(0.5)) v = 'reject with tcp reset';
    if (verdict === 'none') v = '';
    parts.push(v ? `counter ${v}` : 'counter');
  }
  const comment = `comment "${name}"`;
  const text = [...parts, comment].join(' ');
  const ktext = ktextTail ? [...parts.slice(0, -1), ktextTail, comment].join(' ') : text;
  const rule: NRule = { name, chain, line: -1, text, ktext, conds, verdict, to, vmap };
  if (vmap) for (const e of vmap.elems) ctx.rs.elems.set(e.key, { rule, elem: e });
  return rule;
}

function define(ctx: Ctx, stem: string, value: string): string {
  const name = `${stem}_${ctx.nextDefine++}`;
  ctx.defines.push(`define ${name} = ${value}`);
  return `$${name}`;
}

// ---- addresses

interface AddrItem { text: string; lo: bigint; hi: bigint }

function addrItem(ctx: Ctx, fam: Family, dir: 'saddr' | 'daddr', form: 'host' | 'prefix' | 'range'): AddrItem {
  const { rng, rs } = ctx;
  const pool = parseCidr(rng.pick(dir === 'saddr' ? SRC_POOLS[fam] : DST_POOLS[fam]))!;
  const values = dir === 'saddr' ? rs.srcValues[fam] : rs.dstValues[fam];
  const a = values.length && rng.chance(0.3) ? rng.pick(values) : rng.bigBetween(pool.lo, pool.hi);
  if (form === 'host') {
    values.push(a);
    return { text: formatIp(fam, a), lo: a, hi: a };
  }
  if (form === 'range') {
    const span = BigInt(rng.pick([1, 5, 30, 255, 1000, 70000]));
    let hi = a + rng.bigBetween(1n, span);
    if (hi > pool.hi) hi = pool.hi;
    const lo = a < hi ? a : hi - 1n;
    values.push(lo, hi);
    return { text: `${formatIp(fam, lo)}-${formatIp(fam, hi)}`, lo, hi };
  }
  let len = fam === 4
    ? rng.weighted<number>([[1, 8], [1, 12], [3, 16], [2, 20], [5, 24], [2, 26], [2, 28], [1, 30]])
    : rng.weighted<number>([[1, 24], [2, 32], [1, 40], [3, 48], [2, 56], [4, 64], [1, 96], [1, 112], [1, 120]]);
  if (len < pool.len && rng.chance(0.7)) len = Math.min(BITS[fam] - 1, pool.len + rng.int(0, 8));
  const { lo, hi } = prefixBounds(fam, a, len);
  values.push(lo, hi, a);
  return { text: `${formatIp(fam, lo)}/${len}`, lo, hi };
}

/** Items whose ranges do not overlap (nft refuses overlapping elements in an interval set). */
function disjoint<T extends { lo: bigint | number; hi: bigint | number }>(items: T[]): T[] {
  const out: T[] = [];
  for (const it of items) {
    if (out.some((o) => !(it.hi < o.lo || it.lo > o.hi || (typeof it.lo === 'number' && (it.hi === (o.lo as number) - 1 || it.lo === (o.hi as number) + 1))))) continue;
    out.push(it);
  }
  return out;
}

/** FWLENS_KERNEL_NFT_NO_NEG_NAMED=1: no `!= @set` (see nftables.test.ts: fwlens treats a non-member
 * of a named set as uncertain, so `!= @set` never matches in its answers). */
const NEG_NAMED = process.env.FWLENS_KERNEL_NFT_NO_NEG_NAMED !== '1';

function genAddrMatch(ctx: Ctx, table: NTable, fam: Family, dir: 'saddr' | 'daddr'): { text: string; cond: NCond } {
  const { rng } = ctx;
  let neg = rng.chance(0.15);
  const kw = `${fam === 4 ? 'ip' : 'ip6'} ${dir}`;
  const form = rng.weighted<string>([[3, 'host'], [6, 'prefix'], [2, 'range'], [3, 'set'], [2, 'named'], [1, 'define']]);
  if (form === 'named' && !NEG_NAMED) neg = false;
  let text: string;
  let ranges: [bigint, bigint][];
  if (form === 'host' || form === 'prefix' || form === 'range') {
    const it = addrItem(ctx, fam, dir, form);
    text = it.text;
    ranges = [[it.lo, it.hi]];
  } else {
    const items = disjoint(Array.from({ length: rng.int(form === 'define' ? 1 : 2, 4) }, () => addrItem(ctx, fam, dir, rng.pick(['host', 'prefix', 'prefix', 'range'] as const))));
    ranges = items.map((i) => [i.lo, i.hi]);
    const list = items.map((i) => i.text).join(', ');
    if (form === 'set') text = `{ ${list} }`;
    else if (form === 'define') text = define(ctx, dir === 'saddr' ? 'SRC' : 'DST', items.length === 1 ? list : `{ ${list} }`);
    else {
      const name = `${dir === 'saddr' ? 'src' : 'dst'}${fam}_${ctx.nextSet++}`;
      const type = fam === 4 ? 'ipv4_addr' : 'ipv6_addr';
      table.decls.push(rng.chance(0.6)
        ? [`set ${name} {`, `  type ${type}`, '  flags interval', `  elements = { ${list} }`, '}']
        : [`set ${name} { type ${type}; flags interval; elements = { ${list} }; }`]);
      text = `@${name}`;
    }
  }
  return { text: `${kw} ${neg ? '!= ' : ''}${text}`, cond: { k: dir, fam, neg, ranges } };
}

// ---- ports

function anyPort(ctx: Ctx): number {
  const { rng, rs } = ctx;
  return rs.ports.length && rng.chance(0.3) ? rng.pick(rs.ports) : rng.chance(0.6) ? rng.pick(PORTS) : rng.int(1, 65535);
}

function portItem(ctx: Ctx, range: boolean): { lo: number; hi: number } {
  const lo = anyPort(ctx);
  const hi = range ? Math.min(65535, lo + ctx.rng.pick([1, 2, 10, 100, 1000, 30000])) : lo;
  ctx.rs.ports.push(lo, hi);
  return lo === hi && range ? { lo: lo - 1, hi } : { lo, hi };
}

function disjointPorts(ctx: Ctx, n: number): [number, number][] {
  const items = disjoint(Array.from({ length: n }, () => portItem(ctx, ctx.rng.chance(0.3))));
  return items.map((i) => [i.lo, i.hi]);
}

function genPortMatch(ctx: Ctx, table: NTable): { text: string; neg: boolean; ranges: [number, number][] } {
  const { rng } = ctx;
  let neg = rng.chance(0.12);
  const form = rng.weighted<string>([[6, 'single'], [3, 'range'], [4, 'set'], [2, 'named'], [1, 'define']]);
  if (form === 'named' && !NEG_NAMED) neg = false;
  const fmt = ([lo, hi]: [number, number]) => (lo === hi ? String(lo) : `${lo}-${hi}`);
  if (form === 'single' || form === 'range') {
    const it = portItem(ctx, form === 'range');
    return { text: fmt([it.lo, it.hi]), neg, ranges: [[it.lo, it.hi]] };
  }
  const ranges = disjointPorts(ctx, rng.int(form === 'define' ? 1 : 2, 5));
  const list = ranges.map(fmt).join(', ');
  if (form === 'set') return { text: `{ ${list} }`, neg, ranges };
  if (form === 'define') return { text: define(ctx, 'PORTS', ranges.length === 1 && rng.chance(0.5) ? list : `{ ${list} }`), neg, ranges };
  const name = `ports_${ctx.nextSet++}`;
  const interval = ranges.some(([lo, hi]) => lo !== hi);
  table.decls.push([`set ${name} {`, '  type inet_service', ...(interval ? ['  flags interval'] : []), `  elements = { ${list} }`, '}']);
  return { text: `@${name}`, neg, ranges };
}

// ---- layout

function layout(ctx: Ctx): void {
  const { rng, rs } = ctx;
  const fw: string[] = [];
  const k: string[] = [];
  const both = (line: string) => (fw.push(line), k.push(line));
  if (rng.chance(0.3)) both('#!/usr/sbin/nft -f');
  both(`# generated by the fwlens nftables kernel suite, seed ${rs.seed}`);
  for (const d of ctx.defines) both(d);
  if (ctx.defines.length) both('');
  for (const table of rs.tables) {
    fw.push(`table ${table.family} ${table.name} {`);
    k.push(`table ${table.family} ${table.name} {${table.kdecls.length ? ' ' + table.kdecls.join('; ') : ''}`);
    for (const d of table.decls) for (const l of d) both(`  ${l}`);
    for (const chain of table.chains) {
      const b = chain.base;
      const hdr = b ? `type filter hook input priority ${b.prioText}; policy ${b.policy};` : '';
      if (b && rng.chance(0.25)) {
        b.policyLine = fw.length;
        both(`  chain ${chain.name} { ${hdr}`);
      } else {
        both(`  chain ${chain.name} {`);
        if (b) {
          b.policyLine = fw.length;
          both(`    ${hdr}`);
        }
      }
      for (const r of chain.rules) {
        r.line = fw.length;
        fw.push(`    ${r.text}`);
        k.push(`    ${r.ktext}`);
        rs.rules.push(r);
        rs.byName.set(r.name, r);
      }
      if (b) k.push(`    counter comment "${b.tail}"`);
      both('  }');
    }
    both('}');
  }
  k.push('table inet fwlk_obs {');
  k.push(`  chain first { type filter hook input priority -1000; policy accept; counter comment "fwlk-first"; ${STATES.map((s) => `ct state ${s.toLowerCase()} counter comment "fwlk-ct-${s}"`).join('; ')}; }`);
  k.push('  chain last { type filter hook input priority 1000; policy accept; counter comment "fwlk-last"; }');
  k.push('}');
  rs.text = fw.join('\n') + '\n';
  rs.ktext = k.join('\n') + '\n';
  const finals = new Set<string>(['fwlk-last']);
  for (const r of rs.rules) if (r.verdict === 'drop' || r.verdict === 'reject') finals.add(r.name);
  for (const [key, { elem }] of rs.elems) if (elem.verdict === 'drop') finals.add(key);
  for (const c of rs.baseChains) if (c.base!.policy === 'drop') finals.add(c.base!.tail);
  rs.finals = [...finals];
}

// ------------------------------------------------------------------------------------------------
// packets

export function ifaceMatches(pat: string, name: string): boolean {
  return pat.endsWith('*') ? name.startsWith(pat.slice(0, -1)) : pat === name;
}

const validSrc = (f: Family, v: bigint) => v >= 0n && v < 1n << BigInt(BITS[f]) && !inCidrs(f, v, BAD_SRC[f]);
const validDst = (f: Family, v: bigint) => inCidrs(f, v, LOCAL[f]);

function randomIn(rng: Rng, cidr: string): bigint {
  const p = parseCidr(cidr)!;
  return rng.bigBetween(p.lo, p.hi);
}

function randomAddr(rng: Rng, rs: NRuleset, f: Family, dir: 'saddr' | 'daddr'): bigint {
  const values = dir === 'saddr' ? rs.srcValues[f] : rs.dstValues[f];
  const ok = dir === 'saddr' ? validSrc : validDst;
  for (let i = 0; i < 20; i++) {
    const v = values.length && rng.chance(0.5) ? rng.pick(values) + BigInt(rng.pick([0, 0, 1, -1])) : randomIn(rng, rng.pick(dir === 'saddr' ? SRC_POOLS[f] : DST_POOLS[f]));
    if (ok(f, v)) return v;
  }
  return dir === 'saddr' ? randomIn(rng, SRC_POOLS[f][0]) : parseCidr(LOCAL[f][0])!.lo + 7n;
}

function randomPort(rng: Rng, rs: NRuleset): number {
  const p = rs.ports.length && rng.chance(0.6) ? rng.pick(rs.ports) + rng.pick([0, 0, 0, 1, -1]) : rng.chance(0.5) ? rng.int(1024, 65535) : rng.pick(PORTS);
  return Math.min(65535, Math.max(1, p));
}

/** The conditions of a random call path from the owning base chain down to `chain`. */
function pathConds(rng: Rng, rs: NRuleset, chain: NChain, depth = 0): NCond[] {
  if (chain.base || depth > 6) return [];
  const callers: NCond[][] = [];
  for (const r of rs.rules) {
    if (r.to === chain) callers.push([...pathConds(rng, rs, r.chain, depth + 1), ...r.conds]);
    for (const e of r.vmap?.elems ?? []) {
      if (e.to === chain) callers.push([...pathConds(rng, rs, r.chain, depth + 1), ...r.conds, { k: r.vmap!.dir, proto: r.vmap!.proto, neg: false, ranges: [[e.lo, e.hi]] }]);
    }
  }
  return callers.length ? rng.pick(callers) : [];
}

export function generateNftPackets(rs: NRuleset, seed: number, count: number): Packet[] {
  const rng = new Rng(seed);
  const out: Packet[] = [];
  for (let n = 0; n < count; n++) {
    const aim = rs.rules.length && rng.chance(0.8) ? rng.weighted(rs.rules.map((r) => [r.chain.base ? 1 : 2, r] as [number, NRule])) : undefined;
    out.push(makePacket(rng, rs, aim));
  }
  return out;
}

function makePacket(rng: Rng, rs: NRuleset, aim: NRule | undefined): Packet {
  const conds: NCond[] = aim ? [...pathConds(rng, rs, aim.chain), ...aim.conds] : [];
  if (aim?.vmap && rng.chance(0.85)) {
    const e = rng.pick(aim.vmap.elems);
    conds.push({ k: aim.vmap.dir, proto: aim.vmap.proto, neg: false, ranges: [[e.lo, e.hi]] });
  }
  // family
  let family: Family | undefined;
  for (const c of conds) if ((c.k === 'saddr' || c.k === 'daddr' || c.k === 'icmp') && family === undefined) family = c.fam;
  if (family === undefined && aim && aim.chain.table.family !== 'inet') family = aim.chain.table.family === 'ip' ? 4 : 6;
  if (family === undefined || !rs.families.includes(family)) family = rng.pick(rs.families);
  const f = family;
  const flip = () => rng.chance(0.2);

  // protocol
  let candidates = [6, 17, ICMP[f], ESP];
  for (const c of conds) {
    if ((c.k === 'sport' || c.k === 'dport')) candidates = candidates.filter((p) => (c.proto === 'th' ? p === 6 || p === 17 : p === c.proto));
    if (c.k === 'icmp' && c.fam === f) candidates = candidates.filter((p) => p === ICMP[f]);
    if (c.k === 'l4proto') candidates = candidates.filter((p) => c.protos.includes(p) !== c.neg);
  }
  let proto = candidates.length && !rng.chance(0.08) ? rng.pick(candidates) : rng.weighted<number>([[40, 6], [25, 17], [25, ICMP[f]], [5, ESP]]);

  let src = randomAddr(rng, rs, f, 'saddr');
  let dst = randomAddr(rng, rs, f, 'daddr');
  let sport: number | undefined = randomPort(rng, rs);
  let dport: number | undefined = randomPort(rng, rs);
  let icmpType: number | undefined;
  let icmpCode: number | undefined;
  let iface = rng.pick(RECV_IFACES);
  let stateFrom: State[] | undefined;
  const pickRange = <T>(ranges: [T, T][]) => rng.pick(ranges);

  for (const c of conds) {
    switch (c.k) {
      case 'saddr':
      case 'daddr': {
        if (c.fam !== f) break;
        const ok = c.k === 'saddr' ? validSrc : validDst;
        let v: bigint | undefined;
        for (let i = 0; i < 8 && v === undefined; i++) {
          const [lo, hi] = pickRange(c.ranges);
          let cand: bigint;
          if (!c.neg || flip()) cand = rng.weighted<bigint>([[1, lo], [1, hi], [3, rng.bigBetween(lo, hi)]]);
          else cand = rng.chance(0.5) ? (rng.chance(0.5) ? lo - 1n : hi + 1n) : randomAddr(rng, rs, f, c.k);
          if (ok(f, cand) && (!c.neg || !c.ranges.some(([a, b]) => a <= cand && cand <= b) || rng.chance(0.2))) v = cand;
        }
        if (v !== undefined) {
          if (c.k === 'saddr') src = v;
          else dst = v;
        }
        break;
      }
      case 'iif': {
        const want = !c.neg || flip();
        const names = RECV_IFACES.filter((n) => c.pats.some((p) => ifaceMatches(p, n)) === want);
        if (names.length) iface = rng.pick(names);
        break;
      }
      case 'sport':
      case 'dport': {
        const [lo, hi] = pickRange(c.ranges);
        let v: number | undefined;
        if (!c.neg || flip()) v = rng.weighted<number>([[1, lo], [1, hi], [3, rng.int(lo, hi)]]);
        else {
          const opts: number[] = [];
          if (lo > 1) opts.push(lo - 1, rng.int(1, lo - 1));
          if (hi < 65535) opts.push(hi + 1, rng.int(hi + 1, 65535));
          v = opts.length ? rng.pick(opts) : undefined;
        }
        if (v === undefined || v === 0) break;
        if (c.k === 'sport') sport = v;
        else dport = v;
        break;
      }
      case 'icmp': {
        if (c.fam !== f || proto !== ICMP[f]) break;
        const want = !c.neg || flip();
        const cands = ICMP_PACKET[f].filter((e) => c.types.includes(e.type) === want);
        const e = cands.length ? rng.pick(cands) : rng.pick(ICMP_PACKET[f]);
        icmpType = e.type;
        icmpCode = rng.int(0, e.codes);
        break;
      }
      case 'ct': {
        const want = !c.neg || flip();
        const from = STATES.filter((s) => c.states.includes(s) === want);
        if (from.length) stateFrom = from;
        break;
      }
      case 'l4proto':
        break;
    }
  }
  if (rng.chance(0.12)) {
    const which = rng.pick(['sport', 'dport', 'src', 'dst']);
    const d = rng.chance(0.5) ? 1 : -1;
    if (which === 'sport' && sport !== undefined) sport = Math.min(65535, Math.max(1, sport + d));
    if (which === 'dport' && dport !== undefined) dport = Math.min(65535, Math.max(1, dport + d));
    if (which === 'src' && validSrc(f, src + BigInt(d))) src += BigInt(d);
    if (which === 'dst' && validDst(f, dst + BigInt(d))) dst += BigInt(d);
  }

  // ICMP type and connection state: a pair the sender can really produce.
  let state: State;
  if (proto === ICMP[f]) {
    let e = ICMP_PACKET[f].find((x) => x.type === icmpType);
    if (!e) {
      const cands = ICMP_PACKET[f].filter((x) => !stateFrom || x.states.some((s) => stateFrom!.includes(s)));
      e = rng.pick(cands.length ? cands : ICMP_PACKET[f]);
      icmpType = e.type;
      icmpCode = rng.int(0, e.codes);
    }
    const ok = e.states.filter((s) => !stateFrom || stateFrom.includes(s));
    state = rng.pick(ok.length ? ok : e.states);
  } else {
    const possible: State[] = proto === 6 || proto === 17 ? ['NEW', 'ESTABLISHED', 'INVALID'] : ['NEW', 'ESTABLISHED'];
    const ok = possible.filter((s) => !stateFrom || stateFrom.includes(s));
    state = stateFrom && ok.length ? rng.pick(ok) : rng.weighted<State>(possible.map((s) => [s === 'NEW' ? 4 : s === 'ESTABLISHED' ? 2 : 1, s] as [number, State]));
  }
  if (proto !== 6 && proto !== 17) sport = dport = undefined;
  if (proto !== ICMP[f]) icmpType = icmpCode = undefined;

  const spec: Record<string, string | number> = {
    src: formatIp(f, src),
    dst: formatIp(f, dst),
    proto: proto === 6 ? 'tcp' : proto === 17 ? 'udp' : proto === 1 ? 'icmp' : proto === 58 ? 'icmpv6' : rng.chance(0.7) ? 'esp' : '50',
  };
  if (sport !== undefined) spec.sport = sport;
  if (dport !== undefined) spec.dport = dport;
  if (icmpType !== undefined) {
    const name = ICMP_NAMES[f].find(([, v]) => v === icmpType)?.[0];
    spec.icmpType = name && icmpCode === 0 && rng.chance(0.4) ? name : icmpCode === 0 && rng.chance(0.3) ? String(icmpType) : `${icmpType}/${icmpCode}`;
  }
  spec.in = iface;
  if (state !== 'NEW' || rng.chance(0.75)) spec.state = state;
  return { family: f, src, dst, proto, sport, dport, icmpType, icmpCode, in: iface, state, aim: aim ? aim.line : -1, spec };
}

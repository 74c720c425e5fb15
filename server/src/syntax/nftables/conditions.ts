// The model conditions of one selector and its values: a header field implies its protocol
// (`tcp dport 22` ⇒ tcp) and, in inet/bridge/netdev tables, its IP family (`ip saddr` ⇒ IPv4);
// what the model has no dimension for (marks, flags, fib...) is opaque.
import type { Condition, ConnState, Family as ModelFamily, IntRange, Range } from '../../model/policy';
import type { Family, SelectorExpr, Span } from './ast';
import { L4_PROTO } from './keywords';
import type { ValueItem } from './state';

/** tcp, udp, dccp, sctp, udplite: a transport header with ports. */
export const PORTED = [6, 17, 33, 132, 136];
export const STATE_BITS: [bigint, ConnState][] = [[1n, 'INVALID'], [2n, 'ESTABLISHED'], [4n, 'RELATED'], [8n, 'NEW'], [64n, 'UNTRACKED']];

export interface Lowered { deps: Condition[]; main: Condition[] }

/** First and second word of a selector key ('tcp dport' → tcp, dport), cached per key. */
const partsCache = new Map<string, [string, string]>();
export function keyParts(key: string): [string, string] {
  let p = partsCache.get(key);
  if (!p) {
    const w = key.split(' ');
    p = [w[0], w[1] ?? ''];
    partsCache.set(key, p);
  }
  return p;
}

/**
 * Conditions of `sel` ∈ items: dependencies (never negated: `tcp dport != 22` is still tcp) and
 * the value condition. `family` is the table's. What the model has no dimension for becomes an
 * opaque condition that reads as the text of `what` (`textOf`), or else as the selector and
 * its values (plain parameters rather than a callback: this runs for every match of a file).
 */
export function lowerSelector(sel: SelectorExpr, items: ValueItem[], range: Range, family: Family, what: Span | undefined, textOf: (s: Span) => string): Lowered {
  const fam = family;
  const multi = fam !== 'ip' && fam !== 'ip6';
  const parts = keyParts(sel.key);
  const proto = parts[0];
  const field = parts[1];
  switch (sel.key) {
    case 'ip saddr':
    case 'ip daddr':
    case 'ip6 saddr':
    case 'ip6 daddr': {
      const f: ModelFamily = proto === 'ip' ? 4 : 6;
      return { deps: famDep(multi, f), main: [{ field: field === 'saddr' ? 'src' : 'dst', negate: false, addrs: addrsOf(items, f), range }] };
    }
    case 'ip protocol':
      return { deps: famDep(multi, 4), main: [{ field: 'proto', negate: false, protos: expand(rangesOf(items), 256), range }] };
    case 'meta l4proto':
      return { deps: [], main: [{ field: 'proto', negate: false, protos: expand(rangesOf(items), 256), range }] };
    case 'ip6 nexthdr':
      // The first next header: equal to the transport protocol only without extension
      // headers, so it may match a protocol's packets but need not match all of them.
      return { deps: famDep(multi, 6), main: [{ field: 'proto', negate: false, protos: expand(rangesOf(items), 256), range }, { field: 'opaque', negate: false, what: 'ip6 nexthdr (IPv6 extension headers)', range }] };
    case 'meta nfproto':
    case 'meta protocol': {
      const v4 = sel.key === 'meta nfproto' ? 2 : 0x800;
      const v6 = sel.key === 'meta nfproto' ? 10 : 0x86dd;
      const fams: ModelFamily[] = [];
      for (const r of rangesOf(items)) {
        if (r.lo <= v4 && v4 <= r.hi && !fams.includes(4)) fams.push(4);
        if (r.lo <= v6 && v6 <= r.hi && !fams.includes(6)) fams.push(6);
      }
      return { deps: [], main: [{ field: 'family', negate: false, families: fams, range }] };
    }
    case 'icmp type':
    case 'icmpv6 type': {
      const p = proto === 'icmp' ? 1 : 58;
      const keys: IntRange[] = [];
      for (const r of rangesOf(items)) keys.push({ lo: r.lo * 256, hi: r.hi * 256 + 255 });
      const deps = famDep(multi, p === 1 ? 4 : 6, { field: 'proto', negate: false, protos: [p] });
      return { deps, main: [{ field: 'icmp', negate: false, keys, range }] };
    }
    case 'meta iifname':
    case 'meta oifname':
    case 'meta iif':
    case 'meta oif': {
      const names: string[] = [];
      for (const i of items) {
        if (i.kind !== 'str' || i.value.endsWith('+')) return { deps: [], main: [opaqueCondition(sel, items, range, what, textOf)] };
        names.push(i.wildcard ? i.value + '+' : i.value);
      }
      return { deps: [], main: [{ field: sel.key.startsWith('meta i') ? 'iif' : 'oif', negate: false, names, range }] };
    }
    case 'ct state': {
      const states: ConnState[] = [];
      for (const i of items) {
        if (i.kind !== 'range' || i.lo !== i.hi) return { deps: [], main: [opaqueCondition(sel, items, range, what, textOf)] };
        for (const [bit, st] of STATE_BITS) if (i.lo & bit && !states.includes(st)) states.push(st);
      }
      return { deps: [], main: [{ field: 'state', negate: false, states, range }] };
    }
  }
  const l4 = L4_PROTO[proto];
  if (l4 !== undefined) {
    const protoDep: Condition = { field: 'proto', negate: false, protos: [l4] };
    const deps = proto === 'icmp' || proto === 'igmp' ? famDep(multi, 4, protoDep) : proto === 'icmpv6' ? famDep(multi, 6, protoDep) : [protoDep];
    if ((field === 'sport' || field === 'dport') && PORTED.includes(l4)) {
      return { deps, main: [{ field, negate: false, ports: rangesOf(items), range }] };
    }
    return { deps, main: [opaqueCondition(sel, items, range, what, textOf)] };
  }
  if (proto === 'th' && (field === 'sport' || field === 'dport')) {
    // Any transport header: the ports of tcp/udp/sctp/dccp/udplite; for other protocols the
    // same bytes mean something else (a checksum), so whether they match cannot be known.
    return {
      deps: [],
      main: [{
        field: 'any', negate: false, range,
        alternatives: [
          [{ field: 'proto', negate: false, protos: PORTED }, { field, negate: false, ports: rangesOf(items), range }],
          [{ field: 'proto', negate: true, protos: PORTED }, { field: 'opaque', negate: false, what: `th ${field} on a protocol without ports`, range }],
        ],
      }],
    };
  }
  if (proto === 'ip' || proto === 'ip6') return { deps: famDep(multi, proto === 'ip' ? 4 : 6), main: [opaqueCondition(sel, items, range, what, textOf)] };
  return { deps: [], main: [opaqueCondition(sel, items, range, what, textOf)] };
}

function opaqueCondition(sel: SelectorExpr, items: ValueItem[], range: Range, what: Span | undefined, textOf: (s: Span) => string): Condition {
  return { field: 'opaque', negate: false, what: what ? textOf(what) : `${sel.key} ${describeItems(items)}`.trim(), range };
}

/** The family dependency in tables of several families, then `then` if given. */
function famDep(multi: boolean, f: ModelFamily, then?: Condition): Condition[] {
  if (!multi) return then ? [then] : [];
  const fam: Condition = { field: 'family', negate: false, families: [f] };
  return then ? [fam, then] : [fam];
}

// The arrays below are kept in the model: a single value (most matches) gets an array literal
// of its size, where a first push would reserve 17 slots.

function addrsOf(items: ValueItem[], f: ModelFamily): { family: ModelFamily; first: bigint; last: bigint }[] {
  const one = items.length === 1 ? items[0] : undefined;
  if (one?.kind === 'range') return [{ family: one.family ?? f, first: one.lo, last: one.hi }];
  const out: { family: ModelFamily; first: bigint; last: bigint }[] = [];
  for (const i of items) if (i.kind === 'range') out.push({ family: i.family ?? f, first: i.lo, last: i.hi });
  return out;
}

function rangesOf(items: ValueItem[]): IntRange[] {
  const one = items.length === 1 ? items[0] : undefined;
  if (one?.kind === 'range') return [{ lo: Number(one.lo), hi: Number(one.hi) }];
  const out: IntRange[] = [];
  for (const i of items) if (i.kind === 'range') out.push({ lo: Number(i.lo), hi: Number(i.hi) });
  return out;
}

function expand(ranges: IntRange[], limit: number): number[] {
  const out: number[] = [];
  for (const r of ranges) for (let v = r.lo; v <= r.hi && v < limit; v++) out.push(v);
  return out;
}

export function describeItems(items: ValueItem[]): string {
  if (!items.length) return '';
  const parts = items.slice(0, 4).map((i) => (i.kind === 'str' ? i.value + (i.wildcard ? '*' : '') : i.lo === i.hi ? String(i.lo) : `${i.lo}-${i.hi}`));
  return items.length > 4 ? `${parts.join(', ')}, ...` : parts.join(', ');
}

export function mergeable(c: Condition): boolean {
  return ['src', 'dst', 'proto', 'sport', 'dport', 'icmp', 'iif', 'oif', 'state', 'family'].includes(c.field) && !c.negate;
}

/** Conditions on one field joined by OR into one condition (a vmap group of single keys). */
export function mergeConditions(cs: Condition[], range: Range): Condition {
  const f = cs[0];
  switch (f.field) {
    case 'src':
    case 'dst':
      return { field: f.field, negate: false, addrs: cs.flatMap((c) => (c.field === f.field ? c.addrs : [])), range };
    case 'proto':
      return { field: 'proto', negate: false, protos: [...new Set(cs.flatMap((c) => (c.field === 'proto' ? c.protos : [])))], range };
    case 'sport':
    case 'dport':
      return { field: f.field, negate: false, ports: cs.flatMap((c) => (c.field === f.field ? c.ports : [])), range };
    case 'icmp':
      return { field: 'icmp', negate: false, keys: cs.flatMap((c) => (c.field === 'icmp' ? c.keys : [])), range };
    case 'iif':
    case 'oif':
      return { field: f.field, negate: false, names: [...new Set(cs.flatMap((c) => (c.field === f.field ? c.names : [])))], range };
    case 'state':
      return { field: 'state', negate: false, states: [...new Set(cs.flatMap((c) => (c.field === 'state' ? c.states : [])))], range };
    case 'family':
      return { field: 'family', negate: false, families: [...new Set(cs.flatMap((c) => (c.field === 'family' ? c.families : [])))], range };
    default:
      return { field: 'any', negate: false, alternatives: cs.map((c) => [c]), range };
  }
}


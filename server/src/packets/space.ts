// The packet space: which box dimension means what, the universe of each family, the basic sets a
// match is built from (an address range, a port range, ...), and concrete packets as points.
import { Box, BoxSet, containsPoint, makeBox, subtract, union } from './boxes';
import type { Family } from '../model/address';
import { rangeToWordBoxes, toWords } from './words';
import { IfaceSpace } from './iface';

export const D = {
  family: 0,
  src: 1, // four words: 1..4
  dst: 5, // four words: 5..8
  proto: 9,
  sport: 10,
  dport: 11,
  icmp: 12, // type*256 + code
  iif: 13,
  oif: 14,
  state: 15,
} as const;
export const DIM_COUNT = 16;

/** Connection states in the order of the state dimension. */
export const STATES = ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED'] as const;
export type State = (typeof STATES)[number];

const MAXW = 0xffffffff;

export interface Packet {
  family: Family;
  src: bigint;
  dst: bigint;
  proto: number;
  sport: number;
  dport: number;
  /** type*256+code; only meaningful for ICMP packets. */
  icmp: number;
  iif: string;
  oif: string;
  state: State;
}

export type AddrField = 'src' | 'dst';
export type PortField = 'sport' | 'dport';
export type IfaceField = 'iif' | 'oif';

export class PacketSpace {
  readonly families: readonly Family[];
  readonly ifaces: IfaceSpace;
  /** The universe box of each family, in the order of `families`. Never to be changed. */
  readonly universes: readonly Box[];
  /** The universe box by family number (4, 6): the checks ask once per box. */
  private readonly byFamily: (Box | undefined)[] = [];

  constructor(families: readonly Family[], interfaceNames: Iterable<string>) {
    this.families = families;
    this.ifaces = new IfaceSpace(interfaceNames);
    const universes: Box[] = [];
    for (const f of families) {
      if (this.byFamily[f]) continue;
      const u = this.familyBox(f);
      this.byFamily[f] = u;
      universes.push(u);
    }
    this.universes = universes;
  }

  private familyBox(f: Family): Box {
    const addr: [number, number][] = f === 4 ? [[0, 0], [0, 0], [0, 0], [0, MAXW]] : [[0, MAXW], [0, MAXW], [0, MAXW], [0, MAXW]];
    const ifMax = this.ifaces.max();
    return makeBox([[f, f], ...addr, ...addr, [0, 255], [0, 65535], [0, 65535], [0, 65535], [0, ifMax], [0, ifMax], [0, STATES.length - 1]]);
  }

  all(): Box[] {
    return this.universes.slice();
  }

  universeOf(f: Family): Box | undefined {
    return this.byFamily[f];
  }

  complement(set: BoxSet): Box[] {
    return subtract(this.all(), set);
  }

  /** Whether `set` holds every packet. Most sets miss a corner of the universe, which costs no allocation. */
  isAll(set: BoxSet): boolean {
    for (const p of this.corners()) if (!containsPoint(set, p)) return false;
    return subtract(this.all(), set).length === 0;
  }

  /**
   * A few packets of every family (the low and high corner and the centre of each universe box):
   * witnesses for cheap "not everything" answers, built once.
   */
  corners(): readonly (readonly number[])[] {
    if (!this.cornerPoints) {
      this.cornerPoints = [];
      for (const u of this.universes) {
        for (const k of [0, 1, 2]) {
          const p: number[] = [];
          for (let d = 0; d < u.length >> 1; d++) p.push(k === 0 ? u[2 * d] : k === 2 ? u[2 * d + 1] : Math.floor((u[2 * d] + u[2 * d + 1]) / 2));
          this.cornerPoints.push(p);
        }
      }
    }
    return this.cornerPoints;
  }
  private cornerPoints: number[][] | undefined;

  /**
   * Every packet whose dimension `dim` lies in one of the intervals; with `within` (a subset of the
   * universe), the part of `within` that does, box for box as `intersect(within, ...)` gives it.
   * `dim` must have the same range in every family (all but the address words do).
   */
  private along(dim: number, intervals: readonly (readonly [number, number])[], within: BoxSet = this.universes): Box[] {
    if (this.universes.length === 0) return [];
    const u = this.universes[0];
    const pieces = disjointIntervals(intervals, u[2 * dim], u[2 * dim + 1]);
    const out: Box[] = [];
    for (const x of within) {
      for (let k = 0; k < pieces.length; k += 2) {
        const lo = Math.max(pieces[k], x[2 * dim]);
        const hi = Math.min(pieces[k + 1], x[2 * dim + 1]);
        if (lo > hi) continue;
        const b = x.slice();
        b[2 * dim] = lo;
        b[2 * dim + 1] = hi;
        out.push(b);
      }
    }
    return out;
  }

  family(fams: readonly Family[]): Box[] {
    return this.all().filter((b) => fams.includes(b[0] as Family));
  }

  addresses(field: AddrField, ranges: readonly { family: Family; first: bigint; last: bigint }[]): Box[] {
    const base = field === 'src' ? D.src : D.dst;
    const out: Box[] = [];
    for (const r of ranges) {
      const u = this.byFamily[r.family];
      if (!u) continue;
      for (const words of rangeToWordBoxes(r.family, r.first, r.last)) {
        const b = u.slice();
        for (let k = 0; k < 4; k++) {
          b[2 * (base + k)] = words[k][0];
          b[2 * (base + k) + 1] = words[k][1];
        }
        out.push(b);
      }
    }
    return ranges.length > 1 ? disjoint(out) : out;
  }

  // The sets of one dimension. With `within`, the part of `within` in them (see `along`).

  protocols(protos: readonly number[], within?: BoxSet): Box[] {
    return this.along(D.proto, protos.map((p) => [p, p] as const), within);
  }

  ports(field: PortField, ranges: readonly { lo: number; hi: number }[], within?: BoxSet): Box[] {
    return this.along(field === 'sport' ? D.sport : D.dport, ranges.map((r) => [r.lo, r.hi] as const), within);
  }

  icmp(keys: readonly { lo: number; hi: number }[], within?: BoxSet): Box[] {
    return this.along(D.icmp, keys.map((r) => [r.lo, r.hi] as const), within);
  }

  interfaces(field: IfaceField, names: readonly string[], within?: BoxSet): Box[] {
    return this.along(field === 'iif' ? D.iif : D.oif, names.map((n) => this.ifaces.interval(n)), within);
  }

  states(states: readonly State[], within?: BoxSet): Box[] {
    const intervals = states.map((s) => {
      const i = STATES.indexOf(s);
      return [i, i] as const;
    });
    return this.along(D.state, intervals, within);
  }

  point(p: Packet): number[] {
    return [
      p.family,
      ...toWords(p.family, p.src),
      ...toWords(p.family, p.dst),
      p.proto,
      p.sport,
      p.dport,
      p.icmp,
      this.ifaces.code(p.iif),
      this.ifaces.code(p.oif),
      STATES.indexOf(p.state),
    ];
  }

  contains(set: BoxSet, p: Packet): boolean {
    return containsPoint(set, this.point(p));
  }
}

/**
 * Intervals clipped to [min, max], made pairwise disjoint as `union` makes boxes disjoint: each one
 * minus those before it, its lower piece before its upper piece. Flat: [lo0, hi0, lo1, hi1, ...].
 */
function disjointIntervals(intervals: readonly (readonly [number, number])[], min: number, max: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < intervals.length; i++) {
    const lo = Math.max(intervals[i][0], min);
    const hi = Math.min(intervals[i][1], max);
    if (lo > hi) continue;
    if (meetsNone(out, lo, hi)) {
      out.push(lo, hi); // the usual case: nothing to cut away
      continue;
    }
    let cur = [lo, hi];
    for (let k = 0; k < out.length && cur.length; k += 2) cur = intervalMinus(cur, out[k], out[k + 1]);
    for (let k = 0; k < cur.length; k++) out.push(cur[k]);
  }
  return out;
}

/** Whether [lo, hi] meets none of the flat intervals. */
function meetsNone(flat: readonly number[], lo: number, hi: number): boolean {
  for (let k = 0; k < flat.length; k += 2) if (flat[k] <= hi && lo <= flat[k + 1]) return false;
  return true;
}

/** Flat intervals minus [lo, hi], as `boxSubtract` splits a box in one dimension. */
function intervalMinus(cur: number[], lo: number, hi: number): number[] {
  const next: number[] = [];
  for (let k = 0; k < cur.length; k += 2) {
    const a = cur[k];
    const b = cur[k + 1];
    if (b < lo || a > hi) next.push(a, b);
    else {
      if (a < lo) next.push(a, lo - 1);
      if (b > hi) next.push(hi + 1, b);
    }
  }
  return next;
}

/** Makes a list of boxes pairwise disjoint (they may overlap when ranges overlap). */
function disjoint(boxes: Box[]): Box[] {
  let out: Box[] = [];
  for (const b of boxes) out = union(out, [b]);
  return out;
}


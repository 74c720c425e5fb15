// Turns a packet set back into short words: "from 10.0.0.0/8 tcp dport 22, 80".
//
// Steps: widen the dimensions a packet does not have (ports of ICMP, ICMP types of TCP), merge
// boxes that touch, then merge boxes that differ in one dimension only into a list for that
// dimension ("dport 80, 443"; "state NEW,UNTRACKED"). A dimension is named only where it is narrower
// than the universe, and said as "not X" when its complement is the shorter word. When a hull with
// few holes reads shorter ("from 10.0.0.0/8, except from 10.1.0.0/16"), that form wins.
import { Box, BoxSet, coalesce, subtract } from './boxes';
import { Family, formatRange } from '../model/address';
import { fromWords } from './words';
import { D, PacketSpace, STATES } from './space';
import { protocolName } from './services';

export interface DescribeOptions {
  /** Always name the source (or destination) addresses, even when they are everything. */
  always?: ('src' | 'dst')[];
  /** At most this many parts are written out; the rest are counted. */
  limit?: number;
}

/** Boxes looked at before the rest is only counted: descriptions are for reading. */
const MAX_BOXES = 64;

type Intervals = [number, number][];
/**
 * A described part: per dimension a list of intervals; addresses are kept as the boxes they came
 * from (their four words are one dimension to a reader).
 */
interface Part { family: Family; dims: Intervals[]; addrs: Record<'src' | 'dst', Box[]> }

export function describeSet(space: PacketSpace, set: BoxSet, opts: DescribeOptions = {}): string {
  if (set.length === 0) return 'nothing';
  const limit = opts.limit ?? 4;
  const boxes = coalesce(set.slice(0, MAX_BOXES).map((b) => widenMeaningless(b)));
  const more = set.length > MAX_BOXES ? ` (and more: ${set.length} pieces in all)` : '';
  const hullText = hullExcept(space, boxes, opts);
  const parts = mergeParts(boxes);
  const texts = [...new Set(parts.map((p) => partText(space, p, opts)))];
  const listed = texts.slice(0, limit).join('; ') + (texts.length > limit ? `; and ${texts.length - limit} more part${texts.length - limit > 1 ? 's' : ''}` : '');
  // "X, except Y" reads more easily than a list, so it may be a little longer.
  return (hullText && hullText.length <= listed.length + 12 ? hullText : listed) + more;
}

/** One box in words. */
function describeBox(space: PacketSpace, b: Box, opts: DescribeOptions = {}): string {
  return partText(space, toPart(widenMeaningless(b)), opts);
}

const PORT_PROTOCOLS = [6, 17, 132, 136];
const ICMP_PROTOCOLS = [1, 58];

/**
 * A TCP packet has no ICMP type and an ICMP packet no ports: where a box's protocols lack a field,
 * its split there (left by another rule's subtraction) means nothing, and widening it lets boxes
 * that read the same merge.
 */
function widenMeaningless(b: Box): Box {
  const pLo = b[2 * D.proto];
  const pHi = b[2 * D.proto + 1];
  const has = (list: number[]) => list.some((p) => p >= pLo && p <= pHi);
  const ports = has(PORT_PROTOCOLS);
  const icmp = has(ICMP_PROTOCOLS);
  if (ports && icmp) return b;
  const w = b.slice();
  if (!ports) {
    w[2 * D.sport] = 0;
    w[2 * D.sport + 1] = 65535;
    w[2 * D.dport] = 0;
    w[2 * D.dport + 1] = 65535;
  }
  if (!icmp) {
    w[2 * D.icmp] = 0;
    w[2 * D.icmp + 1] = 65535;
  }
  return w;
}

// Dimensions as the describer sees them: the four words of an address are one dimension.
const DIMS = ['family', 'src', 'dst', 'proto', 'sport', 'dport', 'icmp', 'iif', 'oif', 'state'] as const;
type DimName = (typeof DIMS)[number];
const FIRST: Record<DimName, number> = { family: D.family, src: D.src, dst: D.dst, proto: D.proto, sport: D.sport, dport: D.dport, icmp: D.icmp, iif: D.iif, oif: D.oif, state: D.state };

function toPart(b: Box): Part {
  const dims: Intervals[] = DIMS.map((name) => (name === 'src' || name === 'dst' ? [] : [[b[2 * FIRST[name]], b[2 * FIRST[name] + 1]]]));
  return { family: b[0] as Family, dims, addrs: { src: [b], dst: [b] } };
}

/** Merges parts that are equal in every dimension but one into one part with a list there. */
function mergeParts(boxes: Box[]): Part[] {
  type P = Part;
  let parts: P[] = boxes.map(toPart);
  const key = (p: P, skip: number) => DIMS.map((n, i) => (i === skip ? '*' : n === 'src' || n === 'dst' ? addrKey(p.addrs[n], FIRST[n]) : JSON.stringify(p.dims[i]))).join('|');
  for (let skip = DIMS.length - 1; skip >= 0; skip--) {
    if (DIMS[skip] === 'family') continue;
    const groups = new Map<string, P>();
    const next: P[] = [];
    for (const p of parts) {
      const k = key(p, skip);
      const g = groups.get(k);
      if (!g) {
        groups.set(k, p);
        next.push(p);
        continue;
      }
      const name = DIMS[skip];
      if (name === 'src' || name === 'dst') g.addrs[name] = g.addrs[name].concat(p.addrs[name]);
      else g.dims[skip] = unionIntervals(g.dims[skip].concat(p.dims[skip]));
    }
    parts = next;
  }
  return parts;
}

function addrKey(boxes: Box[], base: number): string {
  return boxes.map((b) => [0, 1, 2, 3].map((k) => `${b[2 * (base + k)]}-${b[2 * (base + k) + 1]}`).join(':')).sort().join(',');
}

function unionIntervals(iv: Intervals): Intervals {
  const s = [...iv].sort((a, b) => a[0] - b[0]);
  const out: Intervals = [];
  for (const [lo, hi] of s) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(iv: Intervals, lo: number, hi: number): Intervals {
  const out: Intervals = [];
  let at = lo;
  for (const [a, b] of unionIntervals(iv)) {
    if (a > at) out.push([at, a - 1]);
    at = Math.max(at, b + 1);
  }
  if (at <= hi) out.push([at, hi]);
  return out;
}

function partText(space: PacketSpace, p: Part, opts: DescribeOptions): string {
  const u = space.universeOf(p.family);
  if (!u) return 'nothing';
  const words: string[] = [];
  if (space.families.length > 1) words.push(p.family === 4 ? 'IPv4' : 'IPv6');
  for (const field of ['src', 'dst'] as const) {
    const base = field === 'src' ? D.src : D.dst;
    const boxes = p.addrs[field];
    const full = boxes.every((b) => [0, 1, 2, 3].every((k) => b[2 * (base + k)] === u[2 * (base + k)] && b[2 * (base + k) + 1] === u[2 * (base + k) + 1]));
    if (full && !opts.always?.includes(field)) continue;
    const texts = [...new Set(boxes.map((b) => addressText(b, base, p.family)))];
    words.push(`${field === 'src' ? 'from' : 'to'} ${texts.join(', ')}`);
  }
  const dim = (name: DimName) => p.dims[DIMS.indexOf(name)];
  const uLo = (name: DimName) => u[2 * FIRST[name]];
  const uHi = (name: DimName) => u[2 * FIRST[name] + 1];
  const isFull = (name: DimName) => {
    const iv = unionIntervals(dim(name));
    return iv.length === 1 && iv[0][0] <= uLo(name) && iv[0][1] >= uHi(name);
  };
  /** The list, or "not" and its complement when that is shorter. */
  const render = (name: DimName, one: (lo: number, hi: number) => string, sep = ', ') => {
    const iv = unionIntervals(dim(name));
    const inv = complement(iv, uLo(name), uHi(name));
    const pos = iv.map(([a, b]) => one(a, b)).join(sep);
    const neg = inv.map(([a, b]) => one(a, b)).join(sep);
    return inv.length < iv.length || neg.length + 4 < pos.length ? `not ${neg}` : pos;
  };
  if (!isFull('proto')) words.push(render('proto', (a, b) => (a === b ? protocolName(a) : `protocols ${a}-${b}`)));
  if (!isFull('sport')) words.push(`sport ${render('sport', rangeText)}`);
  if (!isFull('dport')) words.push(`dport ${render('dport', rangeText)}`);
  if (!isFull('icmp')) words.push(render('icmp', icmpText));
  if (!isFull('iif')) words.push(`in on ${render('iif', (a, b) => space.ifaces.describe(a, b))}`);
  if (!isFull('oif')) words.push(`out on ${render('oif', (a, b) => space.ifaces.describe(a, b))}`);
  if (!isFull('state')) words.push(`state ${render('state', (a, b) => STATES.slice(a, b + 1).join(','), ',')}`);
  return words.length ? words.join(' ') : 'all traffic';
}

/** "hull, except holes" when the holes are few; undefined when that form does not apply. */
function hullExcept(space: PacketSpace, boxes: Box[], opts: DescribeOptions): string | undefined {
  if (boxes.length < 2 || !boxes.every((b) => b[0] === boxes[0][0])) return undefined;
  const hull = boxes[0].slice();
  for (const b of boxes) {
    for (let i = 0; i < hull.length; i += 2) {
      if (b[i] < hull[i]) hull[i] = b[i];
      if (b[i + 1] > hull[i + 1]) hull[i + 1] = b[i + 1];
    }
  }
  const holes = coalesce(subtract([hull], boxes));
  if (holes.length === 0 || holes.length > 2 || holes.length >= boxes.length) return undefined;
  // A hole is said by what sets it apart from the hull: the other dimensions read as "everything".
  const u = space.universeOf(hull[0] as Family)!;
  const group = (d: number) => (d >= D.src && d < D.src + 4 ? [D.src, 4] : d >= D.dst && d < D.dst + 4 ? [D.dst, 4] : [d, 1]);
  const same = (h: Box, d: number) => {
    const [first, n] = group(d);
    for (let k = first; k < first + n; k++) if (h[2 * k] !== hull[2 * k] || h[2 * k + 1] !== hull[2 * k + 1]) return false;
    return true;
  };
  const apart = (h: Box) => h.map((v, i) => (same(h, i >> 1) ? u[i] : v));
  return `${describeBox(space, hull, opts)}, except ${holes.map((h) => describeBox(space, apart(h), { always: differing(hull, h) })).join(' and ')}`;
}

/** Address fields where a hole is narrower than its hull: those must be named in the hole's text. */
function differing(hull: Box, hole: Box): ('src' | 'dst')[] {
  const out: ('src' | 'dst')[] = [];
  for (const [field, base] of [['src', D.src], ['dst', D.dst]] as const) {
    for (let k = 0; k < 4; k++) {
      const i = 2 * (base + k);
      if (hull[i] !== hole[i] || hull[i + 1] !== hole[i + 1]) {
        out.push(field);
        break;
      }
    }
  }
  return out;
}

/** The address range a box covers in one field, or a word-level note when it is not contiguous. */
function addressText(b: Box, base: number, fam: Family): string {
  const r = addressRangeOf(b, base);
  return r ? formatRange(fam, r.first, r.last) : 'several address ranges';
}

function addressRangeOf(b: Box, base: number): { first: bigint; last: bigint } | undefined {
  const lo = [0, 1, 2, 3].map((k) => b[2 * (base + k)]);
  const hi = [0, 1, 2, 3].map((k) => b[2 * (base + k) + 1]);
  // Contiguous when every word after the first differing one is full.
  let k = 0;
  while (k < 4 && lo[k] === hi[k]) k++;
  for (let j = k + 1; j < 4; j++) if (lo[j] !== 0 || hi[j] !== 0xffffffff) return undefined;
  return { first: fromWords(lo), last: fromWords(hi) };
}

function rangeText(lo: number, hi: number): string {
  return lo === hi ? `${lo}` : `${lo}-${hi}`;
}

function icmpText(lo: number, hi: number): string {
  const t1 = Math.floor(lo / 256);
  const t2 = Math.floor(hi / 256);
  if (lo % 256 === 0 && hi % 256 === 255) return t1 === t2 ? `type ${t1}` : `types ${t1}-${t2}`;
  if (lo === hi) return `type ${t1} code ${lo % 256}`;
  return `type/code ${t1}/${lo % 256}-${t2}/${hi % 256}`;
}


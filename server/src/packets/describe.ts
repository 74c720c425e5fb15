// Turns a packet set back into short words: "10.0.0.0/8 tcp dport 22".
// Only the dimensions that are narrower than the family's universe are named.
import { Box, BoxSet, coalesce, subtract } from './boxes';
import { Family, formatRange, fromWords } from './address';
import { D, PacketSpace, STATES } from './space';
import { protocolName } from './services';

export interface DescribeOptions {
  /** Always name the source (or destination) addresses, even when they are everything. */
  always?: ('src' | 'dst')[];
  /** At most this many boxes are written out; the rest are counted. */
  limit?: number;
}

export function describeSet(space: PacketSpace, set: BoxSet, opts: DescribeOptions = {}): string {
  if (set.length === 0) return 'nothing';
  const boxes = coalesce(set);
  // "10.0.0.0/8 tcp dport 22, except from 10.1.0.0/16" reads better than the pieces it leaves.
  if (boxes.length > 1 && boxes.every((b) => b[0] === boxes[0][0])) {
    const hull = boundingBox(boxes);
    const holes = coalesce(subtract([hull], boxes));
    if (holes.length < boxes.length && holes.length <= 2) {
      return `${describeBox(space, hull, opts)}, except ${holes.map((h) => describeBox(space, h, { always: differing(hull, h) })).join(' and ')}`;
    }
  }
  const limit = opts.limit ?? 4;
  const parts = boxes.slice(0, limit).map((b) => describeBox(space, b, opts));
  if (boxes.length > limit) parts.push(`and ${boxes.length - limit} more part${boxes.length - limit > 1 ? 's' : ''}`);
  return parts.join('; ');
}

function boundingBox(boxes: readonly Box[]): Box {
  const h = boxes[0].slice();
  for (const b of boxes) {
    for (let i = 0; i < h.length; i += 2) {
      if (b[i] < h[i]) h[i] = b[i];
      if (b[i + 1] > h[i + 1]) h[i + 1] = b[i + 1];
    }
  }
  return h;
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

export function describeBox(space: PacketSpace, b: Box, opts: DescribeOptions = {}): string {
  const fam = b[0] as Family;
  const u = space.universeOf(fam);
  if (!u) return 'nothing';
  const words: string[] = [];
  const full = (dim: number) => b[2 * dim] === u[2 * dim] && b[2 * dim + 1] === u[2 * dim + 1];
  const fullRange = (dim: number, n: number) => {
    for (let k = 0; k < n; k++) if (!full(dim + k)) return false;
    return true;
  };
  if (space.families.length > 1) words.push(fam === 4 ? 'IPv4' : 'IPv6');
  for (const field of ['src', 'dst'] as const) {
    const base = field === 'src' ? D.src : D.dst;
    if (fullRange(base, 4) && !opts.always?.includes(field)) continue;
    words.push(`${field === 'src' ? 'from' : 'to'} ${addressText(b, base, fam)}`);
  }
  const protoAll = full(D.proto);
  if (!protoAll) {
    const lo = b[2 * D.proto];
    const hi = b[2 * D.proto + 1];
    words.push(lo === hi ? protocolName(lo) : `protocols ${lo}-${hi}`);
  }
  for (const [dim, name] of [[D.sport, 'sport'], [D.dport, 'dport']] as const) {
    if (!full(dim)) words.push(`${name} ${rangeText(b[2 * dim], b[2 * dim + 1])}`);
  }
  if (!full(D.icmp)) words.push(`icmp ${icmpText(b[2 * D.icmp], b[2 * D.icmp + 1])}`);
  if (!full(D.iif)) words.push(`in on ${space.ifaces.describe(b[2 * D.iif], b[2 * D.iif + 1])}`);
  if (!full(D.oif)) words.push(`out on ${space.ifaces.describe(b[2 * D.oif], b[2 * D.oif + 1])}`);
  if (!full(D.state)) {
    const names = STATES.slice(b[2 * D.state], b[2 * D.state + 1] + 1);
    words.push(`state ${names.join(',')}`);
  }
  return words.length ? words.join(' ') : 'all traffic';
}

/** The address range a box covers in one field, or a word-level note when it is not contiguous. */
export function addressText(b: Box, base: number, fam: Family): string {
  const lo = [0, 1, 2, 3].map((k) => b[2 * (base + k)]);
  const hi = [0, 1, 2, 3].map((k) => b[2 * (base + k) + 1]);
  // Contiguous when every word after the first differing one is full.
  let k = 0;
  while (k < 4 && lo[k] === hi[k]) k++;
  for (let j = k + 1; j < 4; j++) {
    if (lo[j] !== 0 || hi[j] !== 0xffffffff) return 'several address ranges';
  }
  const first = fromWords(lo);
  const last = fromWords(hi);
  return formatRange(fam, first, last);
}

export function addressRangeOf(b: Box, base: number): { first: bigint; last: bigint } | undefined {
  const lo = [0, 1, 2, 3].map((k) => b[2 * (base + k)]);
  const hi = [0, 1, 2, 3].map((k) => b[2 * (base + k) + 1]);
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

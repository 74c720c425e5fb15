// Resolves the values of a match or a set into ranges and names, for a given datatype: `22`,
// `ssh`, `1000-2000`, `10.0.0.0/8`, `{ a, b . c }`, `$VAR`, `established,related`. Every problem
// nft reports for a value (out of range, unknown name, negative range, prefix too long) is
// reported here, on the value's own token; a prefix with host bits set gets the cidr-host-bits
// warning (nft accepts it and clears the bits).
import type { Range } from '../../model/policy';
import { formatAddr } from '../../model/address';
import type { Expr, Span } from './ast';
import type { Token } from './lexer';
import { BITMASK_TYPES, parseScalar } from './datatypes';
import type { ResolvedElem, TypeInfo, ValueItem } from './state';
import { dict } from '../../model/dict';

export type Report = (code: 'syntax' | 'invalid-value' | 'cidr-host-bits' | 'undefined-reference' | 'unsupported', message: string, at: Span | Token, data?: Record<string, unknown>) => void;

/** Thrown after a problem was reported: the value cannot be used. */
export class ValueError extends Error {}

const TYPE_NAMES: Readonly<Record<string, string | undefined>> = dict({
  ipv4_addr: 'IPv4 address', ipv6_addr: 'IPv6 address', inet_service: 'internet network service', inet_proto: 'Internet protocol',
  ifname: 'network interface name', iface_index: 'network interface index', mark: 'packet mark', ether_addr: 'Ethernet address',
  ct_state: 'conntrack state', ct_status: 'conntrack status', icmp_type: 'ICMP type', icmpv6_type: 'ICMPv6 type', nf_proto: 'netfilter protocol',
  integer: 'integer', string: 'string', pkt_type: 'packet type', ether_type: 'Ethernet protocol', tcp_flag: 'TCP flag', verdict: 'verdict',
});

export function typeName(dtype: string): string {
  return TYPE_NAMES[dtype] ?? dtype;
}

export class ValueResolver {
  constructor(private readonly report: Report, private readonly rangeOf: (s: Span | Token) => Range) {}

  private fail(code: Parameters<Report>[0], message: string, at: Span, data?: Record<string, unknown>): never {
    this.report(code, message, at, data);
    throw new ValueError(message);
  }

  /**
   * The elements an expression stands for: a set's elements, or the one value (a comma list
   * for bitmask types). Each element has one item per type (concatenation part).
   */
  elements(e: Expr, types: TypeInfo[], allowList: boolean, depth = 0): ResolvedElem[] {
    if (depth > 16) this.fail('invalid-value', 'variables nested too deeply', e);
    switch (e.t) {
      case 'set': {
        const out: ResolvedElem[] = [];
        for (const el of e.elems) {
          if (el.key.t === 'set' || (el.key.t === 'var' && el.key.def?.value.t === 'set')) {
            out.push(...this.elements(el.key, types, false, depth + 1));
            continue;
          }
          if (el.value) this.fail('invalid-value', 'mapping outside of map context: `key : value` elements need a map or vmap', el);
          if (el.key.t === 'wild') {
            out.push({ key: [], wild: true, at: el });
            continue;
          }
          out.push({ key: this.tuple(el.key, types, depth), at: el.key });
        }
        return out;
      }
      case 'var':
        if (!e.def) this.fail('undefined-reference', `unknown variable '$${e.name}'`, e);
        if (e.def.value.t === 'set' || e.def.value.t === 'list') return this.elements(e.def.value, types, allowList, depth + 1);
        return [{ key: this.tuple(e.def.value, types, depth + 1), at: e.def.value }];
      case 'list': {
        if (types.length !== 1 || !BITMASK_TYPES.has(types[0].dtype)) {
          this.fail('invalid-value', `Basetype of type ${typeName(types[0]?.dtype ?? 'value')} is not bitmask: use a set { a, b } for several values`, e);
        }
        return e.items.map((it) => ({ key: this.tuple(it, types, depth), at: it }));
      }
      case 'setref':
        this.fail('syntax', `a set reference cannot be used here`, e);
      default:
        return [{ key: this.tuple(e, types, depth), at: e }];
    }
  }

  /** One element: one item per concatenation part. */
  tuple(e: Expr, types: TypeInfo[], depth = 0): ValueItem[] {
    if (types.length === 1) return [this.item(e, types[0], depth)];
    let ex = e;
    while (ex.t === 'var' && ex.def) ex = ex.def.value;
    if (ex.t !== 'concat' || ex.parts.length !== types.length) {
      this.fail('invalid-value', `invalid data type, expected concatenation of (${types.map((t) => typeName(t.dtype)).join(', ')})`, e);
    }
    return ex.parts.map((p, i) => this.item(p, types[i], depth));
  }

  item(e: Expr, type: TypeInfo, depth = 0): ValueItem {
    if (depth > 16) this.fail('invalid-value', 'variables nested too deeply', e);
    switch (e.t) {
      case 'val':
        return this.scalar(e, type);
      case 'var':
        if (!e.def) this.fail('undefined-reference', `unknown variable '$${e.name}'`, e);
        return this.item(e.def.value, type, depth + 1);
      case 'prefix':
        return this.prefix(e, type, depth);
      case 'range': {
        const lo = this.item(e.lo, type, depth);
        const hi = this.item(e.hi, type, depth);
        if (lo.kind !== 'range' || hi.kind !== 'range') this.fail('invalid-value', `a range needs numbers or addresses`, e);
        if (lo.family !== hi.family) this.fail('invalid-value', 'a range must not mix address families', e);
        if (lo.lo > hi.hi) this.fail('invalid-value', 'Range has zero or negative size', e);
        return { kind: 'range', lo: lo.lo, hi: hi.hi, family: lo.family };
      }
      case 'binop': {
        // Bit operations on constants (established|related): fold them.
        const l = this.item(e.left, type, depth);
        const r = this.item(e.right, type, depth);
        if (l.kind !== 'range' || r.kind !== 'range' || l.lo !== l.hi || r.lo !== r.hi) this.fail('invalid-value', `cannot combine these values with '${e.op}'`, e);
        const a = l.lo;
        const b = r.lo;
        const v = e.op === '|' ? a | b : e.op === '&' ? a & b : e.op === '^' ? a ^ b : e.op === '<<' ? a << b : a >> b;
        return { kind: 'range', lo: v, hi: v };
      }
      case 'concat':
        this.fail('invalid-value', `a concatenation (a . b) where one ${typeName(type.dtype)} is expected`, e);
      case 'set':
        this.fail('invalid-value', `a set where one ${typeName(type.dtype)} is expected`, e);
      default:
        this.fail('invalid-value', `expected a ${typeName(type.dtype)}`, e);
    }
  }

  private scalar(e: Expr & { t: 'val' }, type: TypeInfo): ValueItem {
    const r = parseScalar(type.dtype, type.bits, e.tok);
    if ('error' in r) this.fail('invalid-value', r.error, e);
    if (r.kind === 'str') return { kind: 'str', value: r.value, wildcard: r.wildcard };
    if (r.kind === 'addr') return { kind: 'range', lo: r.value, hi: r.value, family: r.family };
    return { kind: 'range', lo: r.value, hi: r.value };
  }

  private prefix(e: Expr & { t: 'prefix' }, type: TypeInfo, depth: number): ValueItem {
    const base = this.item(e.base, type, depth);
    if (base.kind !== 'range' || base.lo !== base.hi) this.fail('invalid-value', 'a prefix needs an address or a number before the /', e);
    const width = base.family === 4 ? 32 : base.family === 6 ? 128 : type.bits;
    const len = prefixLength(e.len.text);
    if (len > width) this.fail('invalid-value', `Prefix length ${e.len.text} is invalid for type of ${width} bits width`, e);
    const masks = prefixMasks(width, len);
    const first = base.lo & masks.net;
    const last = first | masks.host;
    if (first !== base.lo && base.family) {
      const network = `${formatAddr(base.family, first)}/${len}`;
      this.report('cidr-host-bits', `${formatAddr(base.family, base.lo)}/${len} has host bits set: it means ${network}`, e, { network });
    }
    return { kind: 'range', lo: first, hi: last, family: base.family };
  }
}

/** A prefix length as nft keeps it, in 32 bits (/4294967296 is /0); short decimals without BigInt. */
function prefixLength(text: string): number {
  if (text.length <= 9 && isDecimal(text)) return Number(text);
  return Number(BigInt(text) & 0xffffffffn);
}

function isDecimal(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return text.length > 0;
}

/** The network and host bits of a prefix length in a width: computed once per pair, not per value. */
const PREFIX_MASKS = new Map<number, { net: bigint; host: bigint }>();
function prefixMasks(width: number, len: number): { net: bigint; host: bigint } {
  const key = width * 65536 + len;
  let m = PREFIX_MASKS.get(key);
  if (m === undefined) {
    const host = (1n << BigInt(width - len)) - 1n;
    m = { net: ~host, host };
    PREFIX_MASKS.set(key, m);
  }
  return m;
}

/** Whether two items of the same part overlap (for conflicting intervals and duplicate keys). */
export function itemsOverlap(a: ValueItem, b: ValueItem): boolean {
  if (a.kind === 'range' && b.kind === 'range') return a.family === b.family && a.lo <= b.hi && b.lo <= a.hi;
  if (a.kind === 'str' && b.kind === 'str') return a.value === b.value && a.wildcard === b.wildcard;
  return false;
}

/** Two elements' keys (one item per concatenation part) are the same. */
export function keysEqual(a: readonly ValueItem[], b: readonly ValueItem[]): boolean {
  return a.length === b.length && a.every((k, j) => itemsEqual(k, b[j]));
}

export function itemsEqual(a: ValueItem, b: ValueItem): boolean {
  if (a.kind === 'range' && b.kind === 'range') return a.family === b.family && a.lo === b.lo && a.hi === b.hi;
  if (a.kind === 'str' && b.kind === 'str') return a.value === b.value && a.wildcard === b.wildcard;
  return false;
}

export function isInterval(it: ValueItem): boolean {
  return it.kind === 'range' && it.lo !== it.hi;
}

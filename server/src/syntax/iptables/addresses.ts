// Address words of `-s`/`-d` (and iprange) parsed as iptables 1.8 parses them
// (xtables_ipparse_multiple / xtables_ip6parse_multiple):
// - a comma-separated list; every element is `address[/mask]`;
// - IPv4 numbers are iptables' own dotted form, not inet_aton: each part is a base-0 number
//   (`010` is 8, `0x0a` is 10) and missing parts are zeros at the end (`10/8` is 10.0.0.0/8,
//   `10.1` is 10.1.0.0);
// - the mask is a prefix length (base 0 again: `/030` is 24) or a dotted/colon mask, which may
//   be non-contiguous;
// - with a /0 mask the address part is ignored ("any/0");
// - host bits past the mask are cleared (10.0.0.1/24 is 10.0.0.0/24);
// - anything else is looked up in DNS by iptables-restore; we do not resolve names.
import type { Family } from '../../model/policy';
import { strtoui } from './numbers';

/** One parsed element of an address list. */
export interface AddrValue {
  family: Family;
  /** Network address with host bits cleared: a uint32 for IPv4, a bigint for IPv6. */
  net: number | bigint;
  /** Prefix length, or -1 for a non-contiguous mask (see `mask`). */
  prefix: number;
  /** The mask when it is not a prefix. */
  mask?: number | bigint;
  /** The word named a host (DNS name); `net`/`prefix` are meaningless then. */
  hostname?: string;
  /** Host bits were set in the word (10.0.0.1/24). */
  hostBits?: boolean;
  /** Offsets of this element inside the word. */
  start: number;
  end: number;
}

export interface AddrError { message: string; start: number; end: number; hostname?: boolean }

/** iptables' numeric IPv4 parser (__numeric_to_ipaddr). `isMask` requires all four parts. */
export function parseV4Numeric(s: string, isMask = false): number | undefined {
  // Fast path: four plain decimal parts without leading zeros.
  let v = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  let fast = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || parts === 3) { fast = false; break; }
      v = v * 256 + part; parts++; part = 0; digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) { fast = false; break; } // leading zero: octal
      part = part * 10 + (c - 48); digits++;
      if (part > 255) return slowV4(s, isMask);
    } else { fast = false; break; }
  }
  if (fast && digits > 0 && parts === 3) return v * 256 + part;
  return slowV4(s, isMask);
}

function slowV4(s: string, isMask: boolean): number | undefined {
  // iptables copies the word into a 20-byte buffer first.
  const buf = s.length > 19 ? s.slice(0, 19) : s;
  const fields = buf.split('.');
  if (fields.length > 4) return undefined;
  if (fields.length < 4 && isMask) return undefined;
  const bytes = [0, 0, 0, 0];
  for (let i = 0; i < fields.length; i++) {
    const b = strtoui(fields[i], 255);
    if (b === undefined) return undefined;
    bytes[i] = b;
  }
  return ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
}

/**
 * glibc inet_aton (exact): 1 to 4 parts `a`, `a.b` (8.24 bits), `a.b.c` (8.8.16), `a.b.c.d`,
 * each decimal, octal (leading 0) or hex (0x). getaddrinfo accepts these as numeric hosts.
 */
export function inetAton(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length > 4) return undefined;
  const vals: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p.charCodeAt(0) < 48 || p.charCodeAt(0) > 57) return undefined;
    let v: number;
    if (/^0[xX][0-9a-fA-F]+$/.test(p)) v = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = p.length === 1 ? 0 : parseInt(p.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(p)) v = Number(p);
    else return undefined;
    vals.push(v);
  }
  const last = vals[vals.length - 1];
  const lead = vals.slice(0, -1);
  if (lead.some((v) => v > 255)) return undefined;
  const room = 2 ** (8 * (4 - lead.length));
  if (last >= room) return undefined;
  let out = 0;
  for (let i = 0; i < lead.length; i++) out += lead[i] * 2 ** (8 * (3 - i));
  return out + last;
}

/** inet_pton(AF_INET6, s): undefined when it is not a numeric IPv6 address. */
export function parseV6(s: string): bigint | undefined {
  const n = s.length;
  if (n < 2 || n > 45) return undefined;
  const groups: number[] = [];
  let doubleAt = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return undefined;
    doubleAt = 0;
    i = 2;
    if (i === n) return 0n;
  }
  let v4tail: number | undefined;
  while (i < n) {
    let j = i;
    let g = 0;
    while (j < n && j - i < 5) {
      const d = hexDigit(s.charCodeAt(j));
      if (d < 0) break;
      g = g * 16 + d;
      j++;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      // Embedded dotted quad: only as the last 32 bits.
      v4tail = parseStrictV4(s.slice(i));
      if (v4tail === undefined) return undefined;
      i = n;
      break;
    }
    if (j === i || j - i > 4) return undefined;
    groups.push(g);
    if (j === n) { i = n; break; }
    if (s.charCodeAt(j) !== 58) return undefined;
    if (j + 1 < n && s.charCodeAt(j + 1) === 58) {
      if (doubleAt >= 0) return undefined;
      doubleAt = groups.length;
      i = j + 2;
      if (i === n) break;
    } else {
      i = j + 1;
      if (i === n) return undefined; // trailing single colon
    }
  }
  const total = groups.length + (v4tail !== undefined ? 2 : 0);
  if (doubleAt < 0 ? total !== 8 : total > 7) return undefined;
  let all = groups;
  if (v4tail !== undefined) all = groups.concat([v4tail >>> 16, v4tail & 0xffff]);
  let v = 0n;
  const fill = 8 - total;
  for (let k = 0; k < all.length; k++) {
    if (k === doubleAt) v <<= BigInt(16 * fill);
    v = (v << 16n) | BigInt(all[k]);
  }
  if (doubleAt === all.length) v <<= BigInt(16 * fill);
  return v;
}

/** inet_pton(AF_INET) as glibc does it: four decimal parts, no leading zeros. */
function parseStrictV4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === '0')) return undefined;
    let b = 0;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      b = b * 10 + c;
    }
    if (b > 255) return undefined;
    v = v * 256 + b;
  }
  return v;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const HOSTNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;
const HAS_LETTER = /[A-Za-z_]/;

/** Whether iptables would try DNS for this word (and may succeed), rather than refuse it. */
export function looksLikeHostname(s: string): boolean {
  if (s.length > 253 || !HOSTNAME.test(s)) return false;
  // A top-level domain is never all digits (RFC 3696): `1e3.0.0.1` is a bad address, not a name.
  const trimmed = s.endsWith('.') ? s.slice(0, -1) : s;
  return HAS_LETTER.test(trimmed.slice(trimmed.lastIndexOf('.') + 1));
}

const V4_ALL = 0xffffffff;
const V6_ALL = (1n << 128n) - 1n;

/** Prefix length of a contiguous mask, or -1. */
function v4PrefixOf(mask: number): number {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  return Math.clz32(inv);
}

function v6PrefixOf(mask: bigint): number {
  const inv = V6_ALL ^ mask;
  if ((inv & (inv + 1n)) !== 0n) return -1;
  return inv === 0n ? 128 : 128 - inv.toString(2).length;
}

/** Parses an `-s`/`-d` word into its elements; errors point into the word. */
export function parseAddressList(word: string, family: Family): { addrs: AddrValue[]; errors: AddrError[] } {
  const comma0 = word.indexOf(',');
  if (comma0 < 0) {
    // The common case: one address.
    const el = parseOne(word, 0, word.length, family);
    return 'message' in el ? { addrs: [], errors: [el] } : { addrs: [el], errors: NO_ERRORS };
  }
  const addrs: AddrValue[] = [];
  const errors: AddrError[] = [];
  let start = 0;
  for (;;) {
    const comma = word.indexOf(',', start);
    const end = comma < 0 ? word.length : comma;
    const el = parseOne(word, start, end, family);
    if ('message' in el) errors.push(el); else addrs.push(el);
    if (comma < 0) break;
    start = comma + 1;
  }
  return { addrs, errors };
}

const NO_ERRORS: AddrError[] = [];

/** `parseAddressList` for a reader that stops at the first error: the elements, or that error. */
export function readAddressList(word: string, family: Family): AddrValue[] | AddrError {
  if (word.indexOf(',') < 0) {
    const el = parseOne(word, 0, word.length, family);
    return 'message' in el ? el : [el];
  }
  const { addrs, errors } = parseAddressList(word, family);
  return errors.length > 0 ? errors[0] : addrs;
}

function parseOne(word: string, start: number, end: number, family: Family): AddrValue | AddrError {
  if (family === 4) {
    const plain = plainV4(word, start, end);
    if (plain) return plain;
  }
  const el = start === 0 && end === word.length ? word : word.slice(start, end);
  if (el.length > 255) return { message: 'address too long', start, end };
  const slash = el.lastIndexOf('/');
  const host = slash < 0 ? el : el.slice(0, slash);
  const maskWord = slash < 0 ? undefined : el.slice(slash + 1);
  return family === 4 ? parseOne4(host, maskWord, start, end) : parseOne6(host, maskWord, start, end);
}

/**
 * The usual IPv4 element read in place: `a.b.c.d` or `a.b.c.d/n`, plain decimal without leading
 * zeros, n at most 32. Undefined for any other form, which parseOne4 reads (to the same value
 * for these forms, only slower: it cuts the word into pieces first).
 */
function plainV4(word: string, start: number, end: number): AddrValue | undefined {
  let addr = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let i = start;
  for (; i < end; i++) {
    const c = word.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return undefined;
      addr = addr * 256 + part; dots++; part = 0; digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // a leading zero: octal
      part = part * 10 + (c - 48); digits++;
      if (part > 255) return undefined;
    } else if (c === 47 /* / */) {
      break;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || dots !== 3) return undefined;
  addr = addr * 256 + part;
  let prefix = 32;
  if (i < end) {
    const d0 = word.charCodeAt(i + 1) - 48;
    const d1 = end - i === 3 ? word.charCodeAt(i + 2) - 48 : 0;
    if (end - i < 2 || end - i > 3 || d0 < 0 || d0 > 9 || d1 < 0 || d1 > 9) return undefined;
    if (end - i === 3 && d0 === 0) return undefined;
    prefix = end - i === 3 ? d0 * 10 + d1 : d0;
    if (prefix > 32) return undefined;
  }
  if (prefix === 0) return { family: 4, net: 0, prefix: 0, start, end };
  const mask = (V4_ALL << (32 - prefix)) >>> 0;
  const net = (addr & mask) >>> 0;
  const out: AddrValue = { family: 4, net, prefix, start, end };
  if (net !== addr) out.hostBits = true;
  return out;
}

function parseOne4(host: string, maskWord: string | undefined, start: number, end: number): AddrValue | AddrError {
  let mask = V4_ALL;
  let prefix = 32;
  if (maskWord !== undefined) {
    const dotted = maskWord.indexOf('.') >= 0 ? parseV4Numeric(maskWord, true) : undefined;
    if (dotted !== undefined) {
      mask = dotted;
      prefix = v4PrefixOf(mask);
    } else {
      const bits = strtoui(maskWord, 32);
      if (bits === undefined) {
        return { message: `invalid mask \`${maskWord}': a prefix length 0-32 or a dotted mask is expected`, start: start + host.length + 1, end };
      }
      prefix = bits;
      mask = bits === 0 ? 0 : (V4_ALL << (32 - bits)) >>> 0;
    }
  }
  // "if a null mask is given, the name is ignored, like in any/0"
  if (mask === 0) return { family: 4, net: 0, prefix: 0, start, end };
  // iptables' own numbers first; then getaddrinfo, which takes every inet_aton form (`4294967295`).
  const addr = parseV4Numeric(host) ?? inetAton(host);
  if (addr === undefined) {
    if (looksLikeHostname(host)) return { family: 4, net: 0, prefix, hostname: host, start, end };
    return { message: `\`${host}' is not an IPv4 address`, start, end: start + host.length };
  }
  const net = (addr & mask) >>> 0;
  const out: AddrValue = { family: 4, net, prefix, start, end };
  if (prefix < 0) out.mask = mask;
  if (net !== addr) out.hostBits = true;
  return out;
}

function parseOne6(host: string, maskWord: string | undefined, start: number, end: number): AddrValue | AddrError {
  let mask = V6_ALL;
  let prefix = 128;
  if (maskWord !== undefined) {
    const colon = maskWord.indexOf(':') >= 0 ? parseV6(maskWord) : undefined;
    if (colon !== undefined) {
      mask = colon;
      prefix = v6PrefixOf(mask);
    } else {
      const bits = strtoui(maskWord, 128);
      if (bits === undefined) {
        return { message: `invalid mask \`${maskWord}': a prefix length 0-128 or an IPv6 mask is expected`, start: start + host.length + 1, end };
      }
      prefix = bits;
      mask = bits === 0 ? 0n : (V6_ALL << BigInt(128 - bits)) & V6_ALL;
    }
  }
  if (mask === 0n) return { family: 6, net: 0n, prefix: 0, start, end };
  const addr = parseV6(host);
  if (addr === undefined) {
    if (looksLikeHostname(host)) return { family: 6, net: 0n, prefix, hostname: host, start, end };
    return { message: `\`${host}' is not an IPv6 address`, start, end: start + host.length };
  }
  const net = addr & mask;
  const out: AddrValue = { family: 6, net, prefix, start, end };
  if (prefix < 0) out.mask = mask;
  if (net !== addr) out.hostBits = true;
  return out;
}

/** A single address (iprange ends): numeric only. */
export function parseSingleAddress(word: string, family: Family): number | bigint | undefined {
  return family === 4 ? parseV4Numeric(word) : parseV6(word);
}

export function formatV4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export function formatV6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  // Longest run of zero groups (length >= 2) becomes "::" (RFC 5952).
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** "10.0.0.0/24", "10.0.0.0/255.0.255.0", "2001:db8::/32" for messages and quick fixes. */
export function formatNetwork(a: AddrValue): string {
  if (a.family === 4) {
    const m = a.prefix >= 0 ? String(a.prefix) : formatV4(a.mask as number);
    return `${formatV4(a.net as number)}/${m}`;
  }
  const m = a.prefix >= 0 ? String(a.prefix) : formatV6(a.mask as bigint);
  return `${formatV6(a.net as bigint)}/${m}`;
}

// Number, port and protocol words, parsed the way iptables 1.8 parses them. iptables is not
// uniform here, and the differences decide whether iptables-restore accepts a file:
// - most integers go through xtables_strtoui(): C strtoumax with base 0, so `0x16` is 22, `026`
//   is 22 in octal, `09` is an error; leading whitespace and `+` are allowed, `-` is not, and the
//   whole word must be consumed;
// - the tcp, sctp and dccp matches and multiport take a number that way, else a service name
//   for their protocol from /etc/services;
// - the udp match (and others on the newer option parser) resolves ports with getaddrinfo(),
//   which reads decimal only, lets a number wrap around modulo 65536 and accepts an empty word
//   as port 0.
import { netbaseTable as table, PROTOCOLS, SCTP_SERVICES, TCP_SERVICES, UDP_SERVICES } from '../netbase';
import { dict } from '../../model/dict';

/** xtables_strtoui(s, NULL, &v, min, max) with base 0. Returns undefined when iptables refuses. */
export function strtoui(s: string, max: number, min = 0): number | undefined {
  const n = s.length;
  let i = 0;
  // Fast path: plain decimal without a leading zero (the common case: ports, prefixes).
  if (n > 0 && n < 10) {
    let v = 0;
    let ok = true;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k) - 48;
      if (c < 0 || c > 9 || (k === 0 && c === 0 && n > 1)) { ok = false; break; }
      v = v * 10 + c;
    }
    if (ok) return v >= min && v <= max ? v : undefined;
  }
  while (i < n && isCSpace(s.charCodeAt(i))) i++;
  if (i < n && s.charCodeAt(i) === 45 /* - */) return undefined;
  if (i < n && s.charCodeAt(i) === 43 /* + */) i++;
  if (i >= n) return undefined;
  let base = 10;
  if (s.charCodeAt(i) === 48 /* 0 */) {
    const x = s.charCodeAt(i + 1);
    if ((x === 120 || x === 88) && i + 2 < n && hexDigit(s.charCodeAt(i + 2)) >= 0) { base = 16; i += 2; }
    else base = 8;
  }
  let v = 0;
  const start = i;
  for (; i < n; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0 || d >= base) return undefined;
    v = v * base + d;
    if (v > 0xffffffffffff) return undefined; // far beyond any limit we check
  }
  if (i === start && base !== 8) return undefined;
  return v >= min && v <= max ? v : undefined;
}

function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

type ServiceTable = Map<string, number>;
const serviceTables = new Map<string, ServiceTable>();

/** getservbyname(name, proto): the port of a service name for one protocol. */
export function serviceByName(name: string, proto: string): number | undefined {
  let t = serviceTables.get(proto);
  if (!t) {
    const src = proto === 'tcp' ? TCP_SERVICES : proto === 'udp' ? UDP_SERVICES : proto === 'sctp' ? SCTP_SERVICES : '';
    t = table(src);
    serviceTables.set(proto, t);
  }
  return t.get(name);
}

/** xtables_parse_port(word, proto): a number (base 0, 0-65535) or a service name of `proto`. */
export function parsePort(word: string, proto: string): number | undefined {
  const n = strtoui(word, 65535);
  if (n !== undefined) return n;
  return serviceByName(word, proto);
}

export interface GaiPort { port: number; /** the number was larger than 65535 and wrapped around */ wrapped?: boolean }

/**
 * xtables_getportbyname(word): getaddrinfo(NULL, word, NULL). glibc reads the word with
 * strtoul(…, 10) into an int and keeps the low 16 bits; a negative int is an error. A name is
 * looked up for any socket type (tcp, udp, sctp).
 */
export function gaiPort(word: string): GaiPort | undefined {
  if (word === '') return { port: 0 };
  let i = 0;
  const n = word.length;
  while (i < n && isCSpace(word.charCodeAt(i))) i++;
  let neg = false;
  if (i < n && (word[i] === '+' || word[i] === '-')) { neg = word[i] === '-'; i++; }
  if (i < n && word.charCodeAt(i) >= 48 && word.charCodeAt(i) <= 57) {
    let v = 0n;
    for (; i < n; i++) {
      const c = word.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return serviceAnyProto(word);
      v = v * 10n + BigInt(c);
    }
    const ULONG_MAX = (1n << 64n) - 1n;
    if (v > ULONG_MAX) v = ULONG_MAX;
    if (neg) v = (ULONG_MAX + 1n - v) & ULONG_MAX;
    const i32 = Number(v & 0xffffffffn);
    if (i32 >= 0x80000000) return undefined;
    const port = i32 & 0xffff;
    return v > 0xffffn ? { port, wrapped: true } : { port };
  }
  return serviceAnyProto(word);
}

function serviceAnyProto(word: string): GaiPort | undefined {
  const p = serviceByName(word, 'tcp') ?? serviceByName(word, 'udp') ?? serviceByName(word, 'sctp');
  return p === undefined ? undefined : { port: p };
}

/** iptables' own protocol table (xtables_chain_protos), consulted after /etc/protocols. */
const CHAIN_PROTOS = dict<number>({
  tcp: 6, sctp: 132, udp: 17, udplite: 136, icmp: 1, icmpv6: 58, 'ipv6-icmp': 58, esp: 50, ah: 51,
  'ipv6-mh': 135, mh: 135, all: 0,
});

let protoTable: Map<string, number> | undefined;
let protoNames: Map<number, string> | undefined;

/**
 * xtables_parse_protocol() after iptables lowercased the word: a number 0-255 (base 0), `all`,
 * a name from /etc/protocols, or one of iptables' own names.
 */
export function parseProtocol(lowered: string): number | undefined {
  const n = strtoui(lowered, 255);
  if (n !== undefined) return n;
  if (lowered === 'all') return 0;
  protoTable ??= table(PROTOCOLS);
  return protoTable.get(lowered) ?? CHAIN_PROTOS[lowered];
}

/** proto_to_name(): the name iptables uses to find a protocol's match extension. */
export function protocolName(num: number): string | undefined {
  if (!protoNames) {
    protoTable ??= table(PROTOCOLS);
    protoNames = new Map();
    for (const [name, v] of protoTable) if (v !== 0 && !protoNames.has(v)) protoNames.set(v, name);
    for (const name in CHAIN_PROTOS) {
      const v = CHAIN_PROTOS[name] as number;
      if (!protoNames.has(v)) protoNames.set(v, name);
    }
  }
  return protoNames.get(num);
}

/** Protocol numbers the model names in messages. */
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP = 1;
export const PROTO_ICMPV6 = 58;
export const PROTO_SCTP = 132;
export const PROTO_DCCP = 33;
export const PROTO_UDPLITE = 136;
export const PROTO_ESP = 50;
export const PROTO_AH = 51;

// Values of nft's datatypes: how a token in a rule becomes a number, an address or an interface
// name, and nft's own error when it cannot ("Service out of range", "Could not parse conntrack
// state"...). Symbol tables are nft 1.0.6's (`nft describe <expr>` prints them).
import type { Token } from './lexer';
import { PROTOCOLS, SERVICES } from './netdb';
import { dict } from '../../model/dict';

export type Scalar =
  | { kind: 'int'; value: bigint }
  | { kind: 'addr'; family: 4 | 6; value: bigint }
  /** Interface names, strings; `wildcard` for a trailing '*' (prefix match). */
  | { kind: 'str'; value: string; wildcard: boolean };

export type ParseScalar = Scalar | { error: string };

const sym = (entries: Record<string, number>): Map<string, bigint> => new Map(Object.entries(entries).map(([k, v]) => [k, BigInt(v)]));

export const SYMBOLS: Readonly<Record<string, Map<string, bigint> | undefined>> = dict({
  icmp_type: sym({
    'echo-reply': 0, 'destination-unreachable': 3, 'source-quench': 4, redirect: 5, 'echo-request': 8, 'router-advertisement': 9,
    'router-solicitation': 10, 'time-exceeded': 11, 'parameter-problem': 12, 'timestamp-request': 13, 'timestamp-reply': 14,
    'info-request': 15, 'info-reply': 16, 'address-mask-request': 17, 'address-mask-reply': 18,
  }),
  icmpv6_type: sym({
    'destination-unreachable': 1, 'packet-too-big': 2, 'time-exceeded': 3, 'parameter-problem': 4, 'echo-request': 128,
    'echo-reply': 129, 'mld-listener-query': 130, 'mld-listener-report': 131, 'mld-listener-done': 132, 'mld-listener-reduction': 132,
    'nd-router-solicit': 133, 'nd-router-advert': 134, 'nd-neighbor-solicit': 135, 'nd-neighbor-advert': 136, 'nd-redirect': 137,
    'router-renumbering': 138, 'ind-neighbor-solicit': 141, 'ind-neighbor-advert': 142, 'mld2-listener-report': 143,
  }),
  icmp_code: sym({
    'net-unreachable': 0, 'host-unreachable': 1, 'prot-unreachable': 2, 'port-unreachable': 3, 'frag-needed': 4,
    'net-prohibited': 9, 'host-prohibited': 10, 'admin-prohibited': 13,
  }),
  icmpv6_code: sym({ 'no-route': 0, 'admin-prohibited': 1, 'addr-unreachable': 3, 'port-unreachable': 4, 'policy-fail': 5, 'reject-route': 6 }),
  icmpx_code: sym({ 'port-unreachable': 1, 'admin-prohibited': 3, 'no-route': 0, 'host-unreachable': 2 }),
  ct_state: sym({ invalid: 1, established: 2, related: 4, new: 8, untracked: 64 }),
  ct_status: sym({ expected: 1, 'seen-reply': 2, assured: 4, confirmed: 8, snat: 16, dnat: 32, dying: 512 }),
  ct_dir: sym({ original: 0, reply: 1 }),
  ct_event: sym({
    new: 1, related: 2, destroy: 4, reply: 8, assured: 16, protoinfo: 32, helper: 64, mark: 128, seqadj: 256, secmark: 512, label: 1024,
  }),
  pkt_type: sym({ host: 0, unicast: 0, broadcast: 1, multicast: 2, other: 3 }),
  tcp_flag: sym({ fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ecn: 64, cwr: 128 }),
  nf_proto: sym({ ipv4: 2, ipv6: 10 }),
  ether_type: sym({ ip: 0x800, arp: 0x806, ip6: 0x86dd, '8021q': 0x8100, '8021ad': 0x88a8, vlan: 0x8100 }),
  fib_addrtype: sym({ unspec: 0, unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8 }),
  dscp: sym({
    cs0: 0, cs1: 8, cs2: 16, cs3: 24, cs4: 32, cs5: 40, cs6: 48, cs7: 56, df: 0, be: 0, lephb: 1, af11: 10, af12: 12, af13: 14,
    af21: 18, af22: 20, af23: 22, af31: 26, af32: 28, af33: 30, af41: 34, af42: 36, af43: 38, va: 44, ef: 46,
  }),
  ecn: sym({ 'not-ect': 0, ect1: 1, ect0: 2, ce: 3 }),
  iface_type: sym({ ether: 1, ppp: 512, ipip: 768, ipip6: 769, loopback: 772, sit: 776, ipgre: 778 }),
  arp_op: sym({ request: 1, reply: 2, rrequest: 3, rreply: 4, inrequest: 8, inreply: 9, nak: 10 }),
  igmp_type: sym({ 'membership-query': 17, 'membership-report-v1': 18, 'membership-report-v2': 22, 'membership-report-v3': 34, 'leave-group': 23 }),
  dccp_pkttype: sym({ request: 0, response: 1, data: 2, ack: 3, dataack: 4, closereq: 5, close: 6, reset: 7, sync: 8, syncack: 9 }),
  mh_type: sym({
    'binding-refresh-request': 0, 'home-test-init': 1, 'careof-test-init': 2, 'home-test': 3, 'careof-test': 4, 'binding-update': 5,
    'binding-acknowledgement': 6, 'binding-error': 7, 'fast-binding-update': 8, 'fast-binding-acknowledgement': 9,
    'fast-binding-advertisement': 10, 'experimental-mobility-header': 11, 'home-agent-switch-message': 12,
  }),
  day: sym({ Sunday: 0, Monday: 1, Tuesday: 2, Wednesday: 3, Thursday: 4, Friday: 5, Saturday: 6 }),
  devgroup: sym({ default: 0 }),
  boolean: sym({ exists: 1, missing: 0 }),
});

/** Protocol keywords of the grammar (`meta l4proto icmpv6` is the keyword, not /etc/protocols). */
const KEYWORD_PROTOCOLS: Readonly<Record<string, number | undefined>> = dict({
  icmp: 1, igmp: 2, tcp: 6, udp: 17, dccp: 33, esp: 50, ah: 51, icmpv6: 58, comp: 108, sctp: 132, udplite: 136,
});

/** What nft calls the datatype in "Could not parse <name>" messages. */
const DESCRIPTIONS: Readonly<Record<string, string | undefined>> = dict({
  icmp_type: 'ICMP type', icmpv6_type: 'ICMPv6 type', icmp_code: 'icmp code', icmpv6_code: 'icmpv6 code', icmpx_code: 'icmpx code',
  ct_state: 'conntrack state', ct_status: 'conntrack status', ct_dir: 'conntrack direction', ct_event: 'conntrack event bits',
  pkt_type: 'packet type', tcp_flag: 'TCP flag', nf_proto: 'netfilter protocol', ether_type: 'Ethernet protocol',
  fib_addrtype: 'fib address type', dscp: 'Differentiated Services Code Point', ecn: 'Explicit Congestion Notification',
  iface_type: 'network interface type', arp_op: 'ARP operation', igmp_type: 'IGMP type', dccp_pkttype: 'DCCP packet type',
  mh_type: 'Mobility Header Type', day: 'Day of week of packet reception', devgroup: 'devgroup name', boolean: 'boolean type',
});

/** Bitmask types accept `a,b,c` lists and match any of the bits. */
export const BITMASK_TYPES: ReadonlySet<string> = new Set(['ct_state', 'ct_status', 'ct_event', 'tcp_flag', 'ct_label', 'bitmask']);

/** Widths of datatypes not given by the selector (sets declared with `type`). */
export const DATATYPE_BITS: Readonly<Record<string, number | undefined>> = dict({
  ipv4_addr: 32, ipv6_addr: 128, ether_addr: 48, inet_service: 16, inet_proto: 8, nf_proto: 8, mark: 32, ifname: 128,
  iface_index: 32, iface_type: 16, ct_state: 32, ct_status: 32, ct_dir: 8, pkt_type: 8, icmp_type: 8, icmpv6_type: 8,
  icmp_code: 8, icmpv6_code: 8, icmpx_code: 8, tcp_flag: 8, ether_type: 16, arp_op: 16, dscp: 6, ecn: 2, fib_addrtype: 32,
  realm: 32, classid: 32, uid: 32, gid: 32, devgroup: 32, boolean: 8, igmp_type: 8, dccp_pkttype: 4, mh_type: 8, time: 64,
  integer: 32, verdict: 32, string: 128,
});

/** Users and groups every system has (nft resolves the rest through the host's passwd/group). */
const KNOWN_USERS = new Set(['root', 'daemon', 'bin', 'sys', 'nobody', 'www-data', 'mail', 'nogroup', 'adm', 'sync', 'games', 'man', 'lp', 'news', 'uucp', 'proxy', 'backup', 'list', 'irc', 'users', 'staff', 'sudo', 'wheel']);

function isWordLike(t: Token): boolean {
  return t.kind === 'word' || t.kind === 'quoted' || t.kind === 'star' || t.kind === 'time' || t.kind === 'classid' || t.kind === 'mac';
}

/** A decimal or 0x-hexadecimal number (checked by hand: this runs for every number of a file). */
function parseNum(text: string): bigint | undefined {
  const n = text.length;
  const hex = n > 2 && text.charCodeAt(0) === 48 && (text.charCodeAt(1) | 0x20) === 120;
  if (n === 0) return undefined;
  for (let i = hex ? 2 : 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const lower = c | 0x20;
    if (!(c >= 48 && c <= 57) && !(hex && lower >= 97 && lower <= 102)) return undefined;
  }
  return BigInt(text);
}

/** The largest value of a width, per width (a BigInt computed once, not per value). */
const MAX_BY_BITS = new Map<number, bigint>();
function maxOf(bits: number): bigint {
  let max = MAX_BY_BITS.get(bits);
  if (max === undefined) {
    max = bits >= 1 ? (1n << BigInt(Math.min(bits, 128))) - 1n : 0xffffffffn;
    MAX_BY_BITS.set(bits, max);
  }
  return max;
}

/** A number token as an integer of at most `max`. */
function intValue(num: bigint, max: bigint): ParseScalar {
  if (num > max) return { error: `Value ${num} exceeds valid range 0-${max}` };
  return { kind: 'int', value: num };
}

/** Parses a value token as a value of `dtype` of `bits` width. */
export function parseScalar(dtype: string, bits: number, t: Token): ParseScalar {
  const max = maxOf(bits);
  const num = t.kind === 'num' ? parseNum(t.text) : undefined;
  switch (dtype) {
    case 'ipv4_addr':
      return parseIp4Value(t);
    case 'ipv6_addr':
      return parseIp6Value(t);
    case 'inet_service': {
      if (num !== undefined) return num > 65535n ? { error: 'Service out of range' } : { kind: 'int', value: num };
      if (isWordLike(t)) {
        const p = SERVICES.get(t.text);
        if (p !== undefined) return { kind: 'int', value: BigInt(p) };
      }
      return { error: `Could not resolve service '${t.text}': not a port number or a service name` };
    }
    case 'inet_proto': {
      if (num !== undefined) return num > 255n ? { error: 'Protocol out of range' } : { kind: 'int', value: num };
      const p = KEYWORD_PROTOCOLS[t.text] ?? PROTOCOLS.get(t.text);
      if (p !== undefined && t.kind !== 'num') return { kind: 'int', value: BigInt(p) };
      return { error: `Could not resolve protocol name '${t.text}'` };
    }
    case 'ifname':
    case 'string': {
      if (t.kind === 'num') return { error: `expected a name, found the number ${t.text}` };
      let s = t.text;
      let wildcard = false;
      if (s.endsWith('\\*')) s = s.slice(0, -2) + '*';
      else if (s.endsWith('*')) {
        s = s.slice(0, -1);
        wildcard = true;
      }
      if (s.length > 16 || (s.length === 16 && !wildcard)) return { error: 'String exceeds maximum length of 16' };
      return { kind: 'str', value: s, wildcard };
    }
    case 'iface_index':
      if (num !== undefined) return { kind: 'int', value: num };
      // An interface name, resolved to its index on the host when the ruleset loads.
      return { kind: 'str', value: t.text, wildcard: false };
    case 'ether_addr':
      if (t.kind === 'mac') return { kind: 'int', value: BigInt('0x' + t.text.split(':').map((h) => h.padStart(2, '0')).join('')) };
      return { error: `Could not parse Ethernet address '${t.text}'` };
    case 'uid':
    case 'gid':
      if (num !== undefined) return intValue(num, max);
      if (isWordLike(t) && KNOWN_USERS.has(t.text)) return { kind: 'int', value: 0n };
      return { error: dtype === 'uid' ? 'User does not exist' : 'Group does not exist' };
    case 'mark':
    case 'integer':
    case 'realm':
    case 'classid':
    case 'bitmask':
      if (num !== undefined) return intValue(num, max);
      return dtype === 'classid' && t.kind === 'classid' ? { kind: 'int', value: 0n } : { error: `Could not parse ${dtype === 'mark' ? 'packet mark' : dtype} '${t.text}': expected a number` };
    case 'time':
    case 'hour':
      // Clock times and durations: not modelled, any spelling nft accepts passes.
      return { kind: 'int', value: num ?? 0n };
    case 'ct_label':
      if (num !== undefined) return intValue(num, max);
      return { error: `/etc/connlabel.conf: could not parse conntrack label "${t.text}"` };
    case 'invalid':
      if (t.kind === 'addr4') return parseIp4Value(t);
      if (t.kind === 'addr6') return parseIp6Value(t);
      if (num !== undefined) return intValue(num, max);
      return { kind: 'str', value: t.text, wildcard: false };
  }
  const table = SYMBOLS[dtype];
  if (table) {
    if (num !== undefined) return intValue(num, max);
    const v = table.get(t.text);
    if (v !== undefined && t.kind !== 'quoted') return { kind: 'int', value: v };
    return { error: `Could not parse ${DESCRIPTIONS[dtype] ?? dtype} '${t.text}': expected one of ${[...new Set(table.keys())].join(', ')}` };
  }
  if (num !== undefined) return intValue(num, max);
  return { kind: 'str', value: t.text, wildcard: false };
}

function parseIp4Value(t: Token): ParseScalar {
  if (t.kind === 'addr4') {
    const v = parseIp4(t.text);
    return v === undefined ? { error: `Could not resolve hostname: '${t.text}' is not an IPv4 address` } : { kind: 'addr', family: 4, value: v };
  }
  if (t.kind === 'num') {
    const n = parseNum(t.text);
    if (n !== undefined && n <= 0xffffffffn) return { kind: 'addr', family: 4, value: n };
  }
  if (t.kind === 'addr6') return { error: `Could not resolve hostname: '${t.text}' is an IPv6 address where an IPv4 address is needed` };
  if (t.text === 'localhost') return { kind: 'addr', family: 4, value: 0x7f000001n };
  return { error: `'${t.text}' is not an IPv4 address (nft would look it up in DNS while loading; did you mean @${t.text} or $${t.text}?)` };
}

function parseIp6Value(t: Token): ParseScalar {
  if (t.kind === 'addr6') {
    const v = parseIp6(t.text);
    return v === undefined ? { error: `'${t.text}' is not an IPv6 address` } : { kind: 'addr', family: 6, value: v };
  }
  if (t.kind === 'addr4' || t.kind === 'num') return { error: `Could not resolve hostname: '${t.text}' is an IPv4 address where an IPv6 address is needed` };
  if (t.text === 'localhost' || t.text === 'ip6-localhost') return { kind: 'addr', family: 6, value: 1n };
  return { error: `'${t.text}' is not an IPv6 address (nft would look it up in DNS while loading; did you mean @${t.text} or $${t.text}?)` };
}

export function parseIp4(s: string): bigint | undefined {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (!digits || part > 255) return undefined;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else return undefined;
  }
  if (dots !== 3 || !digits || part > 255) return undefined;
  return BigInt(v * 256 + part);
}

export function parseIp6(s: string): bigint | undefined {
  let text = s;
  let tail: bigint[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIp4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = text.indexOf('::');
  let groups: string[];
  if (dbl >= 0) {
    const left = text.slice(0, dbl) ? text.slice(0, dbl).split(':') : [];
    const right = text.slice(dbl + 2) ? text.slice(dbl + 2).split(':') : [];
    const missing = 8 - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...Array(missing).fill('0'), ...right];
  } else groups = text.split(':');
  if (groups.length !== 8) return undefined;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail.length) v = (v & ~0xffffffffn) | (tail[0] << 16n) | tail[1];
  return v;
}

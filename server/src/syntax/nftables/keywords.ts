// Words nft's scanner always turns into keywords (so they can never name a table, chain, set or
// variable), and the selectors of the rule language with the datatype of what they load
// (as `nft describe` prints them for nftables 1.0.6).
import { dict } from '../../model/dict';

export const GLOBAL_KEYWORDS: ReadonlySet<string> = new Set(
  (
    'eq ne le lt ge gt lshift rshift xor and or not vmap include define redefine undefine describe ' +
    'hook device devices table chain rule set element map flowtable handle ruleset socket tproxy ' +
    'accept drop continue jump goto return inet netdev add replace update create insert delete get ' +
    'list reset flush rename import export monitor position index comment constant interval dynamic ' +
    'auto-merge timeout gc-interval elements expires policy size flow offload meter counter log queue ' +
    'limit quota hour day reject snat dnat masquerade redirect random th bridge ether type typeof vlan ' +
    'arp ip ecn time icmp icmpv6 igmp ip6 priority ah esp comp flags udp udplite tcp dccp sctp rt rt0 ' +
    'rt2 srh hbh frag dst mh meta mark iif iifname iiftype oif oifname oiftype skuid skgid nftrace ' +
    'rtclassid ibriport ibrname obriport obrname pkttype cpu iifgroup oifgroup cgroup ct numgen jhash ' +
    'symhash dup fwd fib osf synproxy notrack all exists missing exthdr ipsec secmark'
  ).split(' '),
);

/** Word forms of operators (the scanner maps them to the symbols). */
export const WORD_OPERATORS: Readonly<Record<string, string | undefined>> = dict({
  eq: '==', ne: '!=', le: '<=', lt: '<', ge: '>=', gt: '>', lshift: '<<', rshift: '>>', xor: '^', and: '&', or: '|', not: '!',
});

export interface FieldInfo {
  /** nft datatype name (ipv4_addr, inet_service, integer, ...). */
  dtype: string;
  /** Width in bits (characters*8 for strings). */
  bits: number;
}

const f = (dtype: string, bits: number): FieldInfo => ({ dtype, bits });
const INT = (bits: number): FieldInfo => f('integer', bits);

/** A table of tables, neither with a prototype (see dict). */
function nested<T>(t: Record<string, Record<string, T>>): Record<string, Record<string, T | undefined> | undefined> {
  return dict(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, dict(v)])));
}

/** Header fields per protocol keyword: `tcp dport`, `ip saddr`, `arp saddr ip` ('saddr ip'). */
export const PAYLOAD_FIELDS: Readonly<Record<string, Readonly<Record<string, FieldInfo | undefined>> | undefined>> = nested({
  ether: { saddr: f('ether_addr', 48), daddr: f('ether_addr', 48), type: f('ether_type', 16) },
  vlan: { id: INT(12), cfi: INT(1), dei: INT(1), pcp: INT(3), type: f('ether_type', 16) },
  arp: {
    htype: INT(16), ptype: f('ether_type', 16), hlen: INT(8), plen: INT(8), operation: f('arp_op', 16),
    'saddr ip': f('ipv4_addr', 32), 'daddr ip': f('ipv4_addr', 32), 'saddr ether': f('ether_addr', 48), 'daddr ether': f('ether_addr', 48),
  },
  ip: {
    version: INT(4), hdrlength: INT(4), dscp: f('dscp', 6), ecn: f('ecn', 2), length: INT(16), id: INT(16),
    'frag-off': INT(16), ttl: INT(8), protocol: f('inet_proto', 8), checksum: INT(16), saddr: f('ipv4_addr', 32), daddr: f('ipv4_addr', 32),
  },
  icmp: { type: f('icmp_type', 8), code: f('icmp_code', 8), checksum: INT(16), id: INT(16), sequence: INT(16), gateway: INT(32), mtu: INT(16) },
  igmp: { type: f('igmp_type', 8), checksum: INT(16), mrt: INT(8), group: INT(32) },
  ip6: {
    version: INT(4), dscp: f('dscp', 6), ecn: f('ecn', 2), flowlabel: INT(20), length: INT(16), nexthdr: f('inet_proto', 8),
    hoplimit: INT(8), saddr: f('ipv6_addr', 128), daddr: f('ipv6_addr', 128),
  },
  icmpv6: {
    type: f('icmpv6_type', 8), code: f('icmpv6_code', 8), checksum: INT(16), 'param-problem': INT(32), mtu: INT(32),
    id: INT(16), sequence: INT(16), 'max-delay': INT(16),
  },
  ah: { nexthdr: f('inet_proto', 8), hdrlength: INT(8), reserved: INT(16), spi: INT(32), sequence: INT(32) },
  esp: { spi: INT(32), sequence: INT(32) },
  comp: { nexthdr: f('inet_proto', 8), flags: f('bitmask', 8), cpi: INT(16) },
  udp: { sport: f('inet_service', 16), dport: f('inet_service', 16), length: INT(16), checksum: INT(16) },
  udplite: { sport: f('inet_service', 16), dport: f('inet_service', 16), csumcov: INT(16), checksum: INT(16) },
  tcp: {
    sport: f('inet_service', 16), dport: f('inet_service', 16), sequence: INT(32), ackseq: INT(32), doff: INT(4),
    reserved: INT(4), flags: f('tcp_flag', 8), window: INT(16), checksum: INT(16), urgptr: INT(16),
  },
  dccp: { sport: f('inet_service', 16), dport: f('inet_service', 16), type: f('dccp_pkttype', 4) },
  sctp: { sport: f('inet_service', 16), dport: f('inet_service', 16), vtag: INT(32), checksum: INT(32) },
  th: { sport: f('inet_service', 16), dport: f('inet_service', 16) },
  // IPv6 extension headers.
  hbh: { nexthdr: f('inet_proto', 8), hdrlength: INT(8) },
  rt: { nexthdr: f('inet_proto', 8), hdrlength: INT(8), type: INT(8), 'seg-left': INT(8) },
  rt2: { addr: f('ipv6_addr', 128) },
  srh: { 'last-entry': INT(8), flags: INT(8), tag: INT(16) },
  frag: { nexthdr: f('inet_proto', 8), reserved: INT(8), 'frag-off': INT(13), reserved2: INT(2), 'more-fragments': INT(1), id: INT(32) },
  dst: { nexthdr: f('inet_proto', 8), hdrlength: INT(8) },
  mh: { nexthdr: f('inet_proto', 8), hdrlength: INT(8), type: f('mh_type', 8), reserved: INT(8), checksum: INT(16) },
});

/** The IP protocol number a transport header keyword implies (`tcp dport` needs tcp). */
export const L4_PROTO: Readonly<Record<string, number | undefined>> = dict({
  icmp: 1, igmp: 2, tcp: 6, udp: 17, dccp: 33, esp: 50, ah: 51, icmpv6: 58, comp: 108, sctp: 132, udplite: 136,
});

/** meta keys (`meta X`); those marked unqualified may also be written without `meta`. */
export const META_KEYS: Readonly<Record<string, FieldInfo & { unqualified?: boolean } | undefined>> = dict({
  length: INT(32), protocol: f('ether_type', 16), priority: f('classid', 32), random: INT(32), secmark: INT(32),
  mark: { ...f('mark', 32), unqualified: true }, iif: { ...f('iface_index', 32), unqualified: true },
  iifname: { ...f('ifname', 128), unqualified: true }, iiftype: { ...f('iface_type', 16), unqualified: true },
  oif: { ...f('iface_index', 32), unqualified: true }, oifname: { ...f('ifname', 128), unqualified: true },
  oiftype: { ...f('iface_type', 16), unqualified: true }, skuid: { ...f('uid', 32), unqualified: true },
  skgid: { ...f('gid', 32), unqualified: true }, nftrace: { ...INT(1), unqualified: true },
  rtclassid: { ...f('realm', 32), unqualified: true }, ibriport: { ...f('ifname', 128), unqualified: true },
  obriport: { ...f('ifname', 128), unqualified: true }, ibrname: { ...f('ifname', 128), unqualified: true },
  obrname: { ...f('ifname', 128), unqualified: true }, pkttype: { ...f('pkt_type', 8), unqualified: true },
  cpu: { ...INT(32), unqualified: true }, iifgroup: { ...f('devgroup', 32), unqualified: true },
  oifgroup: { ...f('devgroup', 32), unqualified: true }, cgroup: { ...INT(32), unqualified: true },
  ipsec: { ...f('boolean', 8), unqualified: true }, time: { ...f('time', 64), unqualified: true },
  day: { ...f('day', 8), unqualified: true }, hour: { ...f('hour', 32), unqualified: true },
  // Only as `meta <word>` (nft's meta_key_parse).
  l4proto: f('inet_proto', 8), nfproto: f('nf_proto', 8), sdif: f('iface_index', 32), sdifname: f('ifname', 128),
  iifkind: f('ifname', 128), oifkind: f('ifname', 128), ibrpvid: INT(16), ibrvproto: f('ether_type', 16), secpath: f('boolean', 8),
});

/** ct keys without direction. */
export const CT_KEYS: Readonly<Record<string, FieldInfo | undefined>> = dict({
  l3proto: f('nf_proto', 8), protocol: f('inet_proto', 8), mark: f('mark', 32), state: f('ct_state', 32),
  direction: f('ct_dir', 8), status: f('ct_status', 32), expiration: f('time', 32), helper: f('string', 128),
  saddr: f('invalid', 0), daddr: f('invalid', 0), 'proto-src': f('inet_service', 16), 'proto-dst': f('inet_service', 16),
  label: f('ct_label', 128), event: f('ct_event', 32), secmark: INT(32), id: INT(32), bytes: INT(64), packets: INT(64),
  avgpkt: INT(64), zone: INT(16),
});

/** ct keys after `original`/`reply`. */
export const CT_DIR_KEYS: Readonly<Record<string, FieldInfo | undefined>> = dict({
  saddr: f('invalid', 0), daddr: f('invalid', 0), l3proto: f('nf_proto', 8), protocol: f('inet_proto', 8),
  'proto-src': f('inet_service', 16), 'proto-dst': f('inet_service', 16), bytes: INT(64), packets: INT(64),
  avgpkt: INT(64), zone: INT(16), 'ip saddr': f('ipv4_addr', 32), 'ip daddr': f('ipv4_addr', 32),
  'ip6 saddr': f('ipv6_addr', 128), 'ip6 daddr': f('ipv6_addr', 128),
});

/** Datatype names a set's `type` may use (`nft` accepts these; integer/string/verdict need typeof). */
export const SET_DATATYPES: ReadonlySet<string> = new Set(
  (
    'nf_proto ipv4_addr ipv6_addr ether_addr ether_type arp_op inet_proto inet_service icmp_type tcp_flag ' +
    'dccp_pkttype mh_type time mark iface_index iface_type realm classid uid gid ct_state ct_dir ct_status ' +
    'pkt_type icmp_code icmpv6_code icmpx_code devgroup dscp ecn fib_addrtype boolean ifname igmp_type icmpv6_type'
  ).split(' '),
);

/** Datatypes that exist but cannot stand alone in `type` (nft asks for typeof). */
export const UNQUALIFIED_DATATYPES: ReadonlySet<string> = new Set(['verdict', 'bitmask', 'integer', 'string']);

export const FAMILIES: ReadonlySet<string> = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);

/** Hooks per family (nft's chain_hookname_lookup accepts any of these names; the kernel checks the family). */
export const HOOKS: ReadonlySet<string> = new Set(['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress']);

/** Named chain priorities (nft's standard priority names); which hooks allow them is checked by the caller. */
export function namedPriority(name: string, family: string): number | undefined {
  if (family === 'bridge') {
    const b: Record<string, number> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };
    return b[name];
  }
  const std: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
  if (family === 'arp' || family === 'netdev') return name === 'filter' ? 0 : undefined;
  return std[name];
}

// The match and target extensions of iptables 1.8.9 that the parser knows: their options (name,
// aliases, number of arguments, whether `!` may precede them, how the value is read) and the
// checks iptables makes once the rule is read (mandatory options, mutually exclusive ones,
// required protocol, table). Extensions that exist in iptables but have no table here are still
// accepted: their options are taken as written and the analysis treats them as unknown.
//
// Option tables are written in a small notation, one entry per option:
//   [!]name[|alias…][=parser]      `!`: may be negated; parser from values.ts (none: no argument)
import type { Family } from '../../model/policy';
import { PROTO_AH, PROTO_DCCP, PROTO_ESP, PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP } from './numbers';
import { PARSERS, type ValueMemo, type ValueParser } from './values';
import { dict } from '../../model/dict';

export interface OptSpec {
  /** Long name without dashes. */
  name: string;
  /** Canonical name shared by aliases (`dport` → `destination-port`). */
  id: string;
  invert: boolean;
  parser: ValueParser;
  /** The parser's results so far (made on first use). */
  memo?: ValueMemo;
}

export interface ExtSpec {
  name: string;
  /** Only in iptables (4) or only in ip6tables (6). */
  family?: Family;
  options: Map<string, OptSpec>;
  /** Every option once, canonical names first: for prefix (abbreviation) lookups. */
  names: string[];
  /** Options that must be given. */
  mandatory?: string[];
  /** At least one of these must be given; the message says so. */
  oneOf?: { ids: string[]; message: string };
  /** Groups of options of which at most one may be given. */
  exclusive?: string[][];
  /** Option → options it needs. */
  needs?: Record<string, string>;
  /** The match tests packets for one of these protocols and needs -p to name one. */
  protos?: number[];
  /** The model sees what the match tests (addresses, ports, ICMP, state); others are opaque. */
  modeled?: boolean;
  /** Targets: tables the kernel allows the target in. */
  tables?: string[];
}

function ext(name: string, options: string, extra: Omit<ExtSpec, 'name' | 'options' | 'names'> = {}): ExtSpec {
  const map = new Map<string, OptSpec>();
  const names: string[] = [];
  for (const entry of options.trim().split(/\s+/)) {
    if (entry === '') continue;
    const invert = entry.startsWith('!');
    const body = invert ? entry.slice(1) : entry;
    const eq = body.indexOf('=');
    const aliases = (eq < 0 ? body : body.slice(0, eq)).split('|');
    const parserName = eq < 0 ? 'flag' : body.slice(eq + 1);
    const parser = PARSERS[parserName];
    if (!parser) throw new Error(`iptables extension table: unknown parser ${parserName}`);
    const spec: OptSpec = { name: aliases[0], id: aliases[0], invert, parser };
    for (const a of aliases) { map.set(a, a === aliases[0] ? spec : { ...spec, name: a }); names.push(a); }
  }
  return { name, options: map, names, ...extra };
}

const MATCH_LIST: ExtSpec[] = [
  // Modeled matches.
  ext('tcp', '!source-port|sport=tcpport !destination-port|dport=tcpport !syn !tcp-flags=tcpflags !tcp-option=u8+', {
    protos: [PROTO_TCP], modeled: true, exclusive: [['syn', 'tcp-flags']],
  }),
  ext('udp', '!source-port|sport=udpport !destination-port|dport=udpport', { protos: [PROTO_UDP], modeled: true }),
  ext('icmp', '!icmp-type=icmp4', { family: 4, protos: [PROTO_ICMP], modeled: true, mandatory: ['icmp-type'] }),
  ext('icmp6', '!icmpv6-type=icmp6', { family: 6, protos: [PROTO_ICMPV6], modeled: true, mandatory: ['icmpv6-type'] }),
  ext('multiport', '!source-ports|sports=mports !destination-ports|dports=mports !ports=mports', {
    modeled: true,
    exclusive: [['source-ports', 'destination-ports', 'ports']],
    oneOf: { ids: ['source-ports', 'destination-ports', 'ports'], message: 'multiport needs one of --sports, --dports, --ports' },
  }),
  ext('conntrack', `!ctstate=ctstate !ctproto=proto !ctorigsrc=addrmask !ctorigdst=addrmask !ctreplsrc=addrmask
    !ctrepldst=addrmask !ctorigsrcport=u16range !ctorigdstport=u16range !ctreplsrcport=u16range !ctrepldstport=u16range
    !ctstatus=text !ctexpire=u32range ctdir=ctdir`, {
    modeled: true,
    oneOf: { ids: ['ctstate', 'ctproto', 'ctorigsrc', 'ctorigdst', 'ctreplsrc', 'ctrepldst', 'ctorigsrcport', 'ctorigdstport', 'ctreplsrcport', 'ctrepldstport', 'ctstatus', 'ctexpire', 'ctdir'], message: 'conntrack needs at least one option' },
  }),
  ext('state', '!state=state', { modeled: true, mandatory: ['state'] }),
  ext('iprange', '!src-range=iprange !dst-range=iprange', {
    modeled: true, oneOf: { ids: ['src-range', 'dst-range'], message: 'iprange needs --src-range or --dst-range' },
  }),
  ext('comment', 'comment=text', { modeled: true, mandatory: ['comment'] }),
  ext('sctp', '!source-port|sport=sctpport !destination-port|dport=sctpport !chunk-types=text2', { protos: [PROTO_SCTP], modeled: true }),
  ext('dccp', '!source-port|sport=dccpport !destination-port|dport=dccpport !dccp-types=text !dccp-option=u8', { protos: [PROTO_DCCP], modeled: true }),
  // Opaque matches with known options.
  ext('limit', 'limit=rate limit-burst=burst'),
  ext('recent', '!set !rcheck !update !remove seconds=u32+ reap hitcount=u16 rttl name=text rsource rdest mask=text', {
    exclusive: [['set', 'rcheck', 'update', 'remove'], ['rsource', 'rdest']],
    oneOf: { ids: ['set', 'rcheck', 'update', 'remove'], message: 'recent needs one of --set, --rcheck, --update, --remove' },
    needs: { reap: 'seconds' },
  }),
  ext('hashlimit', `hashlimit-upto|hashlimit=text hashlimit-above=text hashlimit-mode=text hashlimit-srcmask=u8
    hashlimit-dstmask=u8 hashlimit-name=text hashlimit-burst=u32 hashlimit-htable-size=u32 hashlimit-htable-max=u32
    hashlimit-htable-gcinterval=u32 hashlimit-htable-expire=u32 hashlimit-rate-match hashlimit-rate-interval=u32`, {
    mandatory: ['hashlimit-name'], exclusive: [['hashlimit-upto', 'hashlimit-above']],
  }),
  ext('connlimit', 'connlimit-upto=u32 connlimit-above=u32 connlimit-mask=u8 connlimit-saddr connlimit-daddr', {
    exclusive: [['connlimit-upto', 'connlimit-above'], ['connlimit-saddr', 'connlimit-daddr']],
    oneOf: { ids: ['connlimit-upto', 'connlimit-above'], message: 'connlimit needs --connlimit-above or --connlimit-upto' },
  }),
  ext('mark', '!mark=markmask', { mandatory: ['mark'] }),
  ext('connmark', '!mark=markmask', { mandatory: ['mark'] }),
  ext('owner', '!uid-owner=text !gid-owner=text !socket-exists suppl-groups'),
  ext('mac', '!mac-source=mac', { mandatory: ['mac-source'] }),
  ext('addrtype', '!src-type=addrtypes !dst-type=addrtypes limit-iface-in limit-iface-out', {
    oneOf: { ids: ['src-type', 'dst-type'], message: 'addrtype needs --src-type or --dst-type' },
    exclusive: [['limit-iface-in', 'limit-iface-out']],
  }),
  ext('length', '!length=u16range', { mandatory: ['length'] }),
  ext('ttl', '!ttl-eq=u8 ttl-lt=u8 ttl-gt=u8', {
    family: 4, exclusive: [['ttl-eq', 'ttl-lt', 'ttl-gt']],
    oneOf: { ids: ['ttl-eq', 'ttl-lt', 'ttl-gt'], message: 'ttl needs one of --ttl-eq, --ttl-lt, --ttl-gt' },
  }),
  ext('hl', '!hl-eq=u8 hl-lt=u8 hl-gt=u8', {
    family: 6, exclusive: [['hl-eq', 'hl-lt', 'hl-gt']],
    oneOf: { ids: ['hl-eq', 'hl-lt', 'hl-gt'], message: 'hl needs one of --hl-eq, --hl-lt, --hl-gt' },
  }),
  ext('pkttype', '!pkt-type=pkttype', { mandatory: ['pkt-type'] }),
  ext('physdev', '!physdev-in=iface !physdev-out=iface !physdev-is-in !physdev-is-out !physdev-is-bridged', {
    oneOf: { ids: ['physdev-in', 'physdev-out', 'physdev-is-in', 'physdev-is-out', 'physdev-is-bridged'], message: 'physdev needs one of its options' },
  }),
  ext('set', `!match-set|set=ipset return-nomatch !update-counters !update-subcounters !packets-eq=u64 packets-lt=u64
    packets-gt=u64 !bytes-eq=u64 bytes-lt=u64 bytes-gt=u64`, { mandatory: ['match-set'] }),
  ext('helper', '!helper=text', { mandatory: ['helper'] }),
  ext('dscp', '!dscp=u8 !dscp-class=text', { exclusive: [['dscp', 'dscp-class']], oneOf: { ids: ['dscp', 'dscp-class'], message: 'dscp needs --dscp or --dscp-class' } }),
  ext('tos', '!tos=text', { mandatory: ['tos'] }),
  ext('time', 'datestart=text datestop=text timestart=text timestop=text !monthdays=text !weekdays=text kerneltz contiguous utc localtz'),
  ext('string', 'from=u16 to=u16 algo=text icase !string=text !hex-string=text', { mandatory: ['algo'] }),
  ext('statistic', 'mode=text !probability=text !every=u32 packet=u32', { mandatory: ['mode'] }),
  ext('policy', 'dir=text pol=text strict !reqid=u32 !spi=u32 !proto=text !mode=text !tunnel-src=text !tunnel-dst=text next'),
  ext('quota', '!quota=u64', { mandatory: ['quota'] }),
  ext('u32', '!u32=text', { mandatory: ['u32'] }),
  ext('esp', '!espspi=u32range', { protos: [PROTO_ESP] }),
  ext('ah', '!ahspi=u32range !ahlen=u32 ahres', { protos: [PROTO_AH] }),
  ext('ecn', '!ecn-tcp-cwr !ecn-tcp-ece !ecn-ip-ect=u8'),
  ext('tcpmss', '!mss=u16range', { protos: [PROTO_TCP], mandatory: ['mss'] }),
  ext('socket', 'nowildcard transparent restore-skmark'),
  ext('rpfilter', 'loose validmark accept-local invert'),
  ext('devgroup', '!src-group=text !dst-group=text'),
  ext('cgroup', '!path=text !cgroup=text'),
  ext('cpu', '!cpu=u32', { mandatory: ['cpu'] }),
  ext('realm', '!realm=text', { family: 4, mandatory: ['realm'] }),
  ext('connbytes', '!connbytes=text connbytes-dir=text connbytes-mode=text'),
  ext('connlabel', '!label=text set'),
  ext('cluster', 'cluster-total-nodes=u32 !cluster-local-node=u32 !cluster-local-nodemask=u32 cluster-hash-seed=u32'),
  ext('ipcomp', '!ipcompspi=u32range compres'),
  ext('nfacct', 'nfacct-name=text', { mandatory: ['nfacct-name'] }),
  ext('osf', '!genre=text ttl=text log=text'),
  ext('bpf', 'bytecode=text object-pinned=text'),
];

/** Extensions iptables 1.8.9 ships without an option table here: accepted, options taken as written. */
const OTHER_MATCHES = dict<Family | 0>({
  ipvs: 0, rateest: 0, frag: 6, rt: 6, dst: 6, hbh: 6, ipv6header: 6, mh: 6, eui64: 6, srh: 6,
});

const TARGET_LIST: ExtSpec[] = [
  ext('REJECT', 'reject-with=reject4', { family: 4 }),
  ext('LOG', 'log-level=loglevel log-prefix=text log-tcp-sequence log-tcp-options log-ip-options log-uid log-macdecode'),
  ext('NFLOG', 'nflog-group=u16 nflog-prefix=text nflog-range=u32 nflog-size=u32 nflog-threshold=u16'),
  ext('MARK', 'set-xmark=markmask set-mark=markmask and-mark=u32 or-mark=u32 xor-mark=u32', {
    exclusive: [['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark']],
    oneOf: { ids: ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'], message: 'MARK needs one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark' },
  }),
  ext('CONNMARK', `set-xmark=markmask set-mark=markmask save-mark restore-mark and-mark=u32 or-mark=u32 xor-mark=u32
    mask=u32 nfmask=u32 ctmask=u32 left-shift-mark=u8 right-shift-mark=u8`, {
    oneOf: { ids: ['set-xmark', 'set-mark', 'save-mark', 'restore-mark', 'and-mark', 'or-mark', 'xor-mark'], message: 'CONNMARK needs an operation (--set-mark, --save-mark, --restore-mark, …)' },
  }),
  ext('TCPMSS', 'set-mss=u16 clamp-mss-to-pmtu', {
    exclusive: [['set-mss', 'clamp-mss-to-pmtu']],
    oneOf: { ids: ['set-mss', 'clamp-mss-to-pmtu'], message: 'TCPMSS needs --set-mss or --clamp-mss-to-pmtu' },
  }),
  ext('DNAT', 'to-destination=natrange random persistent', { tables: ['nat'] }),
  ext('SNAT', 'to-source=natrange random random-fully persistent', { tables: ['nat'] }),
  ext('MASQUERADE', 'to-ports=natports random random-fully', { tables: ['nat'] }),
  ext('REDIRECT', 'to-ports=natports random', { tables: ['nat'] }),
  ext('NETMAP', 'to=text', { tables: ['nat'], mandatory: ['to'] }),
  ext('TPROXY', 'on-port=u16 on-ip=text tproxy-mark=markmask', { tables: ['mangle'] }),
  ext('NFQUEUE', 'queue-num=u16 queue-balance=text queue-bypass queue-cpu-fanout fail-open'),
  ext('CT', 'notrack helper=text timeout=text ctevents=text expevents=text zone=text zone-orig=text zone-reply=text', { tables: ['raw'] }),
  ext('NOTRACK', '', { tables: ['raw'] }),
  ext('TRACE', ''),
  ext('AUDIT', 'type=text'),
  ext('TEE', 'gateway=text oif=text'),
  ext('CLASSIFY', 'set-class=text', { tables: ['mangle'] }),
  ext('DSCP', 'set-dscp=u8 set-dscp-class=text', { tables: ['mangle'] }),
  ext('TTL', 'ttl-set=u8 ttl-dec=u8 ttl-inc=u8', { family: 4, tables: ['mangle'] }),
  ext('HL', 'hl-set=u8 hl-dec=u8 hl-inc=u8', { family: 6, tables: ['mangle'] }),
  ext('TOS', 'set-tos=text and-tos=text or-tos=text xor-tos=text', { tables: ['mangle'] }),
  ext('ECN', 'ecn-tcp-remove ecn-tcp-cwr ecn-tcp-ece ecn-ip-ect=u8', { family: 4, tables: ['mangle'] }),
  ext('CHECKSUM', 'checksum-fill', { tables: ['mangle'] }),
  ext('SECMARK', 'selctx=text', { tables: ['mangle', 'security'] }),
  ext('CONNSECMARK', 'save restore', { tables: ['mangle', 'security'] }),
  ext('SET', 'add-set=ipset del-set=ipset map-set=ipset exist timeout=u32 map-mark map-prio map-queue'),
  ext('IDLETIMER', 'timeout=u32 label=text alarm'),
  ext('LED', 'led-trigger-id=text led-delay=text led-always-blink'),
  ext('SYNPROXY', 'sack-perm timestamp wscale=u8 mss=u16 ecn'),
  ext('RATEEST', 'rateest-name=text rateest-interval=text rateest-ewmalog=text'),
  ext('TCPOPTSTRIP', 'strip-options=text'),
  ext('CLUSTERIP', 'new hashmode=text clustermac=text total-nodes=u16 local-node=u16 hash-init=u32', { family: 4 }),
  ext('DNPT', 'src-pfx=text dst-pfx=text', { family: 6, tables: ['mangle'] }),
  ext('SNPT', 'src-pfx=text dst-pfx=text', { family: 6, tables: ['mangle'] }),
];

const REJECT6_SPEC = ext('REJECT', 'reject-with=reject6', { family: 6 });
const OTHER_TARGETS = dict<Family | 0>({ HMARK: 0, ULOG: 4 });

export interface FoundExt { spec: ExtSpec; unknown: boolean }

// Lookups hand out these objects (one per extension) rather than a new one per rule.
const known = (spec: ExtSpec): FoundExt => ({ spec, unknown: false });
const MATCHES = new Map(MATCH_LIST.map((m) => [m.name, known(m)]));
const TARGETS = new Map(TARGET_LIST.filter((t) => t.name !== 'REJECT').map((t) => [t.name, known(t)]));
const REJECT4 = known(TARGET_LIST.find((t) => t.name === 'REJECT') as ExtSpec);
const REJECT6 = known(REJECT6_SPEC);

/** A spec-less extension: options are accepted as written. */
function unknownSpec(name: string): ExtSpec {
  return { name, options: new Map(), names: [] };
}
const unknownCache = new Map<string, FoundExt>();

/** The spec-less extension `name` (`key` tells matches from targets). */
function unknownExt(key: string, name: string): FoundExt {
  let u = unknownCache.get(key);
  if (!u) { u = { spec: unknownSpec(name), unknown: true }; unknownCache.set(key, u); }
  return u;
}

/**
 * Resolves `-m NAME` like xtables_find_match: `icmpv6`/`ipv6-icmp` are spellings of `icmp6`.
 * Undefined when iptables 1.8.9 has no such match for the family.
 */
export function findMatch(name: string, family: Family): FoundExt | undefined {
  const n = name === 'icmpv6' || name === 'ipv6-icmp' ? 'icmp6' : name;
  const found = MATCHES.get(n);
  if (found) return found.spec.family && found.spec.family !== family ? undefined : found;
  const fam = OTHER_MATCHES[n];
  if (fam === undefined || (fam !== 0 && fam !== family)) return undefined;
  return unknownExt(n, n);
}

/** Targets that are verdicts of the core (no extension library). */
export const STANDARD_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

/** Resolves `-j NAME` to a target extension of the family, if it is one. */
export function findTarget(name: string, family: Family): FoundExt | undefined {
  if (name === 'REJECT') return family === 4 ? REJECT4 : REJECT6;
  const found = TARGETS.get(name);
  if (found) return found.spec.family && found.spec.family !== family ? undefined : found;
  const fam = OTHER_TARGETS[name];
  if (fam === undefined || (fam !== 0 && fam !== family)) return undefined;
  return unknownExt(`target:${name}`, name);
}

/** Whether a chain name clashes with a target iptables always knows (`:ACCEPT - [0:0]` is refused). */
export function isStandardTargetName(name: string): boolean {
  return STANDARD_TARGETS.has(name) || name === 'standard';
}

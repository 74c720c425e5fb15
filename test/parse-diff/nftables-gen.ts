// A seeded generator of nftables rulesets over the constructs the parser supports, and mutations
// of them (a dropped token, a misspelled keyword, a bad number, an undefined reference, a
// duplicated line). The rulesets avoid what depends on the host rather than the file: interface
// indexes other than lo, host names, kernel modules that may be missing (queue, synproxy...).
import { Rng } from '../rng';

type Fam = 'ip' | 'ip6' | 'inet';

interface Ctx {
  r: Rng;
  objs?: boolean;
  anon?: boolean;
  fam: Fam;
  chains: string[];
  sets: { name: string; type: string; interval: boolean }[];
  maps: { name: string }[];
  /** Maps whose data is a mark, read by `meta mark set KEY map @name`. */
  dataMaps: { name: string; key: 'ipv4_addr' | 'ipv6_addr' | 'inet_service' | 'concat' }[];
  /** Named stateful objects of the table other than the counter `cnt`. */
  objects: { kind: 'quota' | 'limit' | 'helper'; name: string }[];
  /** Meter names must be unique in a table: one counter shared by the table's rules. */
  meters: { n: number };
  defines: { name: string; kind: 'addr4' | 'port' | 'portset' | 'ifname' }[];
}

type L4 = { proto?: string; l3?: string };

const SERVICES = ['ssh', 'http', 'https', 'domain', 'smtp', 'ntp', 'imap', 'pop3'];
const ICMP4 = ['echo-request', 'echo-reply', 'destination-unreachable', 'time-exceeded', 'parameter-problem', 'redirect'];
const ICMP6 = ['echo-request', 'echo-reply', 'nd-neighbor-solicit', 'nd-neighbor-advert', 'nd-router-advert', 'packet-too-big'];
const STATES = ['new', 'established', 'related', 'invalid', 'untracked'];
const DSCP = ['cs0', 'cs1', 'cs4', 'af11', 'af41', 'ef', '0x10', '46'];
// Helpers whose conntrack modules load here (sip and others may be missing on a host).
const HELPERS = [['ftp', 'tcp'], ['tftp', 'udp'], ['irc', 'tcp']] as const;

function addr4(r: Rng): string {
  return `${r.pick([10, 172, 192, 198, 203])}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
}
function net4(r: Rng): string {
  const len = r.pick([8, 16, 24, 28, 32]);
  const a = [r.pick([10, 172, 192]), r.int(0, 255), r.int(0, 255), r.int(0, 255)];
  const v = ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
  const masked = len === 0 ? 0 : (v & (~0 << (32 - len))) >>> 0;
  return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`;
}
function addr6(r: Rng): string {
  return r.pick(['2001:db8::', 'fd00::', 'fe80::', '2001:db8:1::']) + r.int(1, 0xffff).toString(16);
}
function net6(r: Rng): string {
  return r.pick(['2001:db8::/32', 'fd00::/8', 'fe80::/10', '2001:db8:1::/48', '::1/128']);
}
/** n prefixes that do not overlap: nft refuses overlapping intervals in a map. */
function disjointNets4(r: Rng, n: number): string[] {
  return list(r, n, () => 0).map((_, k) => (r.chance(0.5) ? `10.${k * 16 + r.int(0, 15)}.${r.int(0, 255)}.0/24` : `10.${k * 16 + r.int(0, 15)}.0.0/16`));
}
function disjointNets6(r: Rng, n: number): string[] {
  return list(r, n, () => 0).map((_, k) => `fd00:${(k * 16 + r.int(0, 15)).toString(16)}::/32`);
}
function port(r: Rng): string {
  return r.chance(0.3) ? r.pick(SERVICES) : String(r.int(1, 65535));
}
function portRange(r: Rng): string {
  const a = r.int(1, 60000);
  return `${a}-${a + r.int(1, 5000)}`;
}
function list<T>(r: Rng, n: number, f: () => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(f());
  return out;
}
function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** One match of the given transport protocol context. */
function match(c: Ctx, l4: { proto?: string; l3?: string }): string {
  const r = c.r;
  const v4 = c.fam !== 'ip6';
  const v6 = c.fam !== 'ip';
  const neg = r.chance(0.15) ? '!= ' : '';
  const choices: (() => string)[] = [];
  if (v4 && l4.l3 !== 'ip6') {
    choices.push(() => {
      const a = addr4(r);
      return `ip saddr ${neg}${r.pick([addr4(r), net4(r), `${a}-${a.replace(/\.\d+$/, '.255')}`])}`;
    });
    choices.push(() => `ip daddr ${neg}{ ${uniq(list(r, r.int(1, 4), () => net4(r))).join(', ')} }`);
  }
  if (v6 && l4.l3 !== 'ip') {
    choices.push(() => `ip6 saddr ${neg}${r.pick([addr6(r), net6(r)])}`);
    choices.push(() => `ip6 daddr ${neg}{ ${uniq(list(r, r.int(1, 3), () => net6(r))).join(', ')} }`);
  }
  choices.push(() => `iifname ${neg}${r.pick(['"eth0"', 'eth1', '"eth*"', '"wg*"', 'lo', '{ "eth0", "eth1" }', 'br-lan'])}`);
  choices.push(() => `oifname ${neg}${r.pick(['"eth0"', '"ppp*"', 'lo'])}`);
  choices.push(() => `iif ${neg}lo`);
  choices.push(() => `ct state ${neg}${r.chance(0.5) ? uniq(list(r, r.int(1, 3), () => r.pick(STATES))).join(',') : `{ ${uniq(list(r, r.int(1, 3), () => r.pick(STATES))).join(', ')} }`}`);
  choices.push(() => `meta mark ${neg}0x${r.int(0, 0xffff).toString(16)}`);
  choices.push(() => `ct mark ${neg}${r.int(0, 100)}`);
  choices.push(() => `meta pkttype ${r.pick(['host', 'broadcast', 'multicast'])}`);
  choices.push(() => `ct status ${r.pick(['dnat', 'snat', 'assured'])}`);
  if (!l4.proto) {
    choices.push(() => {
      const p = r.pick(['tcp', 'udp', 'icmp', 'icmpv6', 'gre', 'esp']);
      l4.proto = p;
      return `meta l4proto ${p}`;
    });
    choices.push(() => {
      // Several protocols: nft then refuses any transport header field after it.
      l4.proto = 'several';
      return `meta l4proto { ${uniq(list(r, 2, () => r.pick(['tcp', 'udp', 'sctp']))).join(', ')} }`;
    });
    if (v4 && c.fam === 'ip') {
      choices.push(() => {
        const p = r.pick(['tcp', 'udp', 'icmp', '47', 'esp']);
        l4.proto = p === '47' ? 'gre' : p;
        return `ip protocol ${p}`;
      });
    }
  }
  if (!l4.proto || l4.proto === 'tcp' || l4.proto === 'udp') {
    const p = l4.proto ?? r.pick(['tcp', 'udp']);
    choices.push(() => {
      l4.proto = p;
      return `${p} dport ${neg}${r.pick([port(r), portRange(r), `{ ${uniq(list(r, r.int(1, 4), () => port(r))).join(', ')} }`])}`;
    });
    choices.push(() => {
      l4.proto = p;
      return `${p} sport ${r.pick([port(r), portRange(r)])}`;
    });
  }
  choices.push(() => `th dport ${r.pick([port(r), `{ ${uniq(list(r, 2, () => port(r))).join(', ')} }`])}`);
  if (!l4.proto || l4.proto === 'tcp') {
    choices.push(() => {
      l4.proto = 'tcp';
      return r.pick(['tcp flags syn', 'tcp flags & (syn|ack) == syn', 'tcp flags syn / syn,ack', 'tcp flags != syn']);
    });
  }
  if (v4 && (!l4.proto || l4.proto === 'icmp') && c.fam !== 'ip6') {
    choices.push(() => {
      l4.proto = 'icmp';
      return `icmp type ${r.chance(0.5) ? r.pick(ICMP4) : `{ ${uniq(list(r, 3, () => r.pick(ICMP4))).join(', ')} }`}`;
    });
  }
  if (v6 && (!l4.proto || l4.proto === 'icmpv6') && c.fam !== 'ip') {
    choices.push(() => {
      l4.proto = 'icmpv6';
      return `icmpv6 type ${r.chance(0.5) ? r.pick(ICMP6) : `{ ${uniq(list(r, 3, () => r.pick(ICMP6))).join(', ')} }`}`;
    });
  }
  choices.push(() => r.pick(['fib saddr . iif oif missing', 'fib daddr type local', 'fib daddr type { local, broadcast }']));
  choices.push(() => `oif ${neg}lo`);
  choices.push(() => `meta iifname ${r.pick(['"eth0"', '{ "eth*", "wg0" }'])}`);
  choices.push(() => `ct state != ${r.pick(STATES)}`);
  choices.push(() => `ct direction ${r.pick(['original', 'reply'])}`);
  choices.push(() => `meta skuid ${r.pick(['0', 'root', '1000'])}`);
  choices.push(() => {
    if (c.fam === 'ip' || l4.l3 === 'ip' || l4.proto) return 'meta mark 7';
    // The protocol it names ties the rest of the rule to it, as a header field would.
    l4.proto = r.pick(['tcp', 'udp', 'icmpv6', 'esp']);
    return `ip6 nexthdr ${l4.proto}`;
  });
  if (!l4.proto) {
    choices.push(() => {
      const p = r.pick(['sctp', 'udplite', 'dccp']);
      l4.proto = p;
      return `${p} dport ${r.pick([port(r), portRange(r)])}`;
    });
  }
  if (!l4.proto || l4.proto === 'tcp' || l4.proto === 'udp') {
    choices.push(() => {
      const p = l4.proto ?? 'tcp';
      l4.proto = p;
      return `${p} dport ${r.pick(['<', '>', '<=', '>='])} ${r.int(1, 65535)}`;
    });
  }
  if (c.fam !== 'ip6' && (!l4.proto || l4.proto === 'icmp') && l4.l3 !== 'ip6') {
    choices.push(() => {
      l4.proto = 'icmp';
      return `icmp code ${r.pick(['0', 'port-unreachable', 'admin-prohibited'])}`;
    });
  }
  if (c.sets.some((s) => s.type === 'concat') && c.fam !== 'ip6' && !l4.proto && l4.l3 !== 'ip6') {
    choices.push(() => {
      l4.proto = 'tcp';
      return `ip saddr . tcp dport @${c.sets.find((s) => s.type === 'concat')!.name}`;
    });
  }
  choices.push(() => `limit rate ${r.int(1, 100)}/${r.pick(['second', 'minute', 'hour'])}${r.chance(0.3) ? ` burst ${r.int(1, 20)} packets` : ''}`);
  choices.push(() => `limit rate over ${r.int(1, 10)} mbytes/second`);
  if (c.sets.length) {
    choices.push(() => {
      const s = r.pick(c.sets);
      if (s.type === 'ipv4_addr' && v4 && l4.l3 !== 'ip6') return `ip saddr ${neg}@${s.name}`;
      if (s.type === 'ipv6_addr' && v6 && l4.l3 !== 'ip') return `ip6 saddr @${s.name}`;
      if (s.type === 'inet_service' && (!l4.proto || l4.proto === 'tcp')) {
        l4.proto = 'tcp';
        return `tcp dport @${s.name}`;
      }
      if (s.type === 'ifname') return `iifname @${s.name}`;
      return 'ct state established';
    });
  }
  if (c.defines.length) {
    choices.push(() => {
      const d = r.pick(c.defines);
      if (d.kind === 'addr4' && v4 && l4.l3 !== 'ip6') return `ip saddr $${d.name}`;
      if ((d.kind === 'port' || d.kind === 'portset') && (!l4.proto || l4.proto === 'tcp')) {
        l4.proto = 'tcp';
        return `tcp dport $${d.name}`;
      }
      if (d.kind === 'ifname') return `iifname $${d.name}`;
      return 'meta mark 1';
    });
  }
  if (v4 && c.fam === 'inet' && !l4.proto && l4.l3 !== 'ip6') {
    choices.push(() => {
      l4.proto = 'tcp';
      return `ip saddr . tcp dport { ${uniq(list(r, r.int(1, 3), () => `${addr4(r)} . ${port(r)}`)).join(', ')} }`;
    });
  }
  if (c.fam === 'inet' && !l4.l3) choices.push(() => `meta nfproto ${r.pick(['ipv4', 'ipv6'])}`);
  choices.push(...headerMatches(c, l4, neg), ...statefulMatches(c, l4));
  const m = r.pick(choices)();
  if (m.startsWith('ip ') || m.includes('nfproto ipv4')) l4.l3 = 'ip';
  if (m.startsWith('ip6 ') || m.includes('nfproto ipv6')) l4.l3 = 'ip6';
  return m;
}

/** IP header fields other than addresses, and TCP options. */
function headerMatches(c: Ctx, l4: L4, neg: string): (() => string)[] {
  const r = c.r;
  const out: (() => string)[] = [];
  const dscp = (): string => (r.chance(0.3) ? `{ ${uniq(list(r, 2, () => r.pick(DSCP))).join(', ')} }` : r.pick(DSCP));
  if (c.fam !== 'ip6' && l4.l3 !== 'ip6' && l4.proto !== 'icmpv6') {
    out.push(() => `ip dscp ${neg}${dscp()}`);
    out.push(() => `ip ttl ${r.pick(['', '!= ', '< ', '> '])}${r.chance(0.2) ? `1-${r.int(2, 64)}` : r.int(1, 255)}`);
  }
  if (c.fam !== 'ip' && l4.l3 !== 'ip' && l4.proto !== 'icmp') {
    out.push(() => `ip6 hoplimit ${r.pick(['', '!= ', '< '])}${r.pick(['1', '64', '255', '{ 1, 255 }'])}`);
    out.push(() => `ip6 dscp ${neg}${dscp()}`);
  }
  if (!l4.proto || l4.proto === 'tcp') {
    out.push(() => {
      l4.proto = 'tcp';
      return r.pick([`tcp option maxseg size ${r.pick(['1460', '< 536', '1000-1460', '!= 1400'])}`, 'tcp option maxseg exists']);
    });
  }
  return out;
}

/** Matches that keep state or draw numbers: limits, quotas, meters, ct count, numgen, jhash. */
function statefulMatches(c: Ctx, l4: L4): (() => string)[] {
  const r = c.r;
  const out: (() => string)[] = [];
  const rate = (): string => `${r.chance(0.3) ? 'over ' : ''}${r.int(1, 100)}/${r.pick(['second', 'minute'])}${r.chance(0.4) ? ` burst ${r.int(1, 20)} packets` : ''}`;
  out.push(() => `limit rate over ${r.int(1, 50)}/${r.pick(['second', 'minute'])} burst ${r.int(1, 10)} packets`);
  out.push(() => `limit rate ${r.int(1, 500)} ${r.pick(['kbytes', 'mbytes'])}/second${r.chance(0.3) ? ` burst ${r.int(1, 100)} kbytes` : ''}`);
  out.push(() => `ct count ${r.chance(0.6) ? 'over ' : ''}${r.int(1, 20)}`);
  out.push(() => `numgen ${r.pick(['inc', 'random'])} mod ${r.int(2, 4)} ${r.chance(0.3) ? '{ 0, 1 }' : '0'}`);
  const keys: string[] = [];
  if (c.fam !== 'ip6' && l4.l3 !== 'ip6' && l4.proto !== 'icmpv6') keys.push('ip saddr');
  if (c.fam !== 'ip' && l4.l3 !== 'ip' && l4.proto !== 'icmp') keys.push('ip6 saddr');
  if (keys.length) {
    out.push(() => {
      const k = r.pick(keys);
      l4.l3 = k.startsWith('ip6') ? 'ip6' : 'ip';
      return `jhash ${k} mod ${r.int(2, 4)} ${r.pick(['0', '1'])}`;
    });
    out.push(() => {
      const k = r.pick(keys);
      l4.l3 = k.startsWith('ip6') ? 'ip6' : 'ip';
      const body = r.pick([`limit rate ${rate()}`, 'counter', `limit rate ${rate()} counter`]);
      return `meter mt_${c.meters.n++}${r.chance(0.2) ? ` size ${r.pick([1024, 65535])}` : ''} { ${k} ${body} }`;
    });
  }
  for (const o of c.objects) {
    if (o.kind === 'quota') out.push(() => `quota name ${r.chance(0.5) ? `"${o.name}"` : o.name}`);
    if (o.kind === 'limit') out.push(() => `limit name ${r.chance(0.5) ? `"${o.name}"` : o.name}`);
  }
  return out;
}

/** Statements that change the packet or its connection and let it go on. */
function statement(c: Ctx, l4: L4): string {
  const r = c.r;
  // An ICMP match ties the rule to its IP version too.
  const v4 = c.fam !== 'ip6' && l4.l3 !== 'ip6' && l4.proto !== 'icmpv6';
  const v6 = c.fam !== 'ip' && l4.l3 !== 'ip' && l4.proto !== 'icmp';
  const tcpOk = !l4.proto || l4.proto === 'tcp';
  const opts: (() => string)[] = [
    () => r.pick(['counter', 'meta mark set 0x10', 'ct mark set meta mark', 'log level warn', 'log prefix "x " flags all', 'quota over 10 mbytes', 'notrack']),
    () => (c.objs ? 'counter name cnt' : 'counter'),
    () => `${r.pick(['meta', 'ct'])} mark set numgen ${r.pick(['inc', 'random'])} mod ${r.int(2, 8)}${r.chance(0.3) ? ` offset ${r.int(1, 100)}` : ''}`,
  ];
  if (v4) {
    opts.push(() => `${r.pick(['meta', 'ct'])} mark set jhash ip saddr${tcpOk && r.chance(0.3) ? ' . tcp dport' : ''} mod ${r.int(2, 8)}${r.chance(0.3) ? ` seed 0x${r.int(1, 0xffff).toString(16)}` : ''}`);
    opts.push(() => `ip dscp set ${r.pick(DSCP)}`, () => `ip ttl set ${r.int(1, 255)}`);
    opts.push(() => `meta mark set ip saddr map { ${disjointNets4(r, r.int(1, 3)).map((a) => `${a} : ${r.int(1, 9)}`).join(', ')} }`);
  }
  if (v6) opts.push(() => `ip6 hoplimit set ${r.int(1, 255)}`, () => `ip6 dscp set ${r.pick(DSCP)}`);
  if (tcpOk) {
    opts.push(() => `meta mark set tcp dport map { ${uniq(list(r, r.int(1, 3), () => String(r.int(1, 65535)))).map((p) => `${p} : 0x${r.int(1, 255).toString(16)}`).join(', ')} }`);
    opts.push(() => `tcp flags syn tcp option maxseg size set ${r.pick(['1360', 'rt mtu'])}`);
  }
  for (const m of c.dataMaps) {
    const key = m.key === 'ipv4_addr' && v4 ? 'ip saddr' : m.key === 'ipv6_addr' && v6 ? 'ip6 saddr' : m.key === 'inet_service' && tcpOk ? 'tcp dport' : m.key === 'concat' && v4 && tcpOk ? 'ip saddr . tcp dport' : undefined;
    if (key) opts.push(() => `meta mark set ${key} map @${m.name}`);
  }
  for (const o of c.objects) if (o.kind === 'helper') opts.push(() => `ct helper set ${r.chance(0.5) ? `"${o.name}"` : o.name}`);
  // dup needs a family for its address: only ip and ip6 tables.
  if (c.fam === 'ip') opts.push(() => `dup to ${addr4(r)}${r.chance(0.3) ? ' device "lo"' : ''}`);
  if (c.fam === 'ip6') opts.push(() => `dup to ${addr6(r)}${r.chance(0.3) ? ' device "lo"' : ''}`);
  const st = r.pick(opts)();
  if (st.includes('tcp ')) l4.proto = 'tcp';
  if (/\bip (saddr|dscp|ttl)/.test(st)) l4.l3 = 'ip';
  if (/\bip6 /.test(st)) l4.l3 = 'ip6';
  return st;
}

function verdict(c: Ctx, self: string, l4: { proto?: string; l3?: string }): string {
  const r = c.r;
  const targets = c.chains.filter((x) => x !== self);
  const opts = ['accept', 'drop', 'drop', 'accept', 'return', 'continue', 'reject', 'counter accept', 'counter drop', 'log prefix "fw: " drop'];
  if (c.fam !== 'ip6' && l4.l3 !== 'ip6' && l4.proto !== 'icmpv6') opts.push('reject with icmp type port-unreachable');
  if (c.fam !== 'ip' && l4.l3 !== 'ip' && l4.proto !== 'icmp') opts.push('reject with icmpv6 type admin-prohibited');
  if (c.fam === 'inet') opts.push('reject with icmpx type admin-prohibited');
  if (!l4.proto || l4.proto === 'tcp') opts.push('reject with tcp reset');
  if (targets.length) opts.push(`jump ${r.pick(targets)}`, `goto ${r.pick(targets)}`);
  return r.pick(opts);
}

function rule(c: Ctx, self: string): string {
  const r = c.r;
  const parts: string[] = [];
  const l4: { proto?: string; l3?: string } = {};
  const n = r.int(0, 3);
  for (let i = 0; i < n; i++) parts.push(match(c, l4));
  const kind = r.int(0, 9);
  if (kind === 0) {
    // A verdict map.
    const p = l4.proto === 'udp' ? 'udp' : 'tcp';
    if (l4.proto && l4.proto !== 'tcp' && l4.proto !== 'udp') return [...parts, 'counter'].join(' ');
    const ports = uniq(list(r, r.int(1, 4), () => String(r.int(1, 65535))));
    const targets = c.chains.filter((x) => x !== self);
    const vs = ['accept', 'drop', ...(targets.length ? [`jump ${r.pick(targets)}`] : [])];
    parts.push(`${p} dport vmap { ${ports.map((x) => `${x} : ${r.pick(vs)}`).join(', ')} }`);
  } else if (kind === 1) {
    parts.push(r.pick(['ct state vmap { established : accept, related : accept, invalid : drop }', 'meta l4proto vmap { tcp : accept, udp : drop }'].filter((x) => !(x.includes('l4proto') && l4.proto))));
  } else if (kind === 2 && c.maps.length && !l4.proto) {
    parts.push(`tcp dport vmap @${r.pick(c.maps).name}`);
  } else if (kind === 3) {
    parts.push(statement(c, l4));
    if (r.chance(0.4)) parts.push(verdict(c, self, l4));
  } else if (kind === 4 && c.anon) {
    parts.push(`${r.pick(['jump', 'goto'])} { ${r.pick(['accept', 'drop', 'counter'])}; }`);
  } else {
    if (r.chance(0.3)) parts.push('counter');
    parts.push(verdict(c, self, l4));
  }
  if (r.chance(0.15)) parts.push(`comment "rule ${r.int(1, 999)}"`);
  return parts.join(' ');
}

/** A map from addresses or ports to marks, declared by type or by typeof. */
function dataMap(c: Ctx): string[] {
  const r = c.r;
  const keys = (c.fam === 'ip' ? ['ipv4_addr', 'inet_service', 'concat'] : c.fam === 'ip6' ? ['ipv6_addr', 'inet_service'] : ['ipv4_addr', 'ipv6_addr', 'inet_service', 'concat']) as Ctx['dataMaps'][number]['key'][];
  const key = r.pick(keys);
  const interval = key.endsWith('addr') && r.chance(0.4);
  const typed = r.chance(0.5);
  const decl = {
    ipv4_addr: typed ? 'type ipv4_addr : mark' : 'typeof ip saddr : meta mark',
    ipv6_addr: typed ? 'type ipv6_addr : mark' : 'typeof ip6 saddr : meta mark',
    inet_service: typed ? 'type inet_service : mark' : 'typeof tcp dport : meta mark',
    concat: typed ? 'type ipv4_addr . inet_service : mark' : 'typeof ip saddr . tcp dport : meta mark',
  }[key];
  const elem = (): string =>
    key === 'ipv4_addr' ? addr4(r) : key === 'ipv6_addr' ? addr6(r) : key === 'inet_service' ? String(r.int(1, 65535)) : `${addr4(r)} . ${r.int(1, 65535)}`;
  const n = r.int(0, 3);
  const keysOf = interval ? (key === 'ipv4_addr' ? disjointNets4(r, n) : disjointNets6(r, n)) : uniq(list(r, n, elem));
  const name = `mark_map`;
  c.dataMaps.push({ name, key });
  return [
    `\tmap ${name} {`,
    `\t\t${decl}`,
    ...(interval ? ['\t\tflags interval'] : []),
    ...(keysOf.length ? [`\t\telements = { ${keysOf.map((k) => `${k} : ${r.chance(0.5) ? r.int(0, 1000) : `0x${r.int(0, 0xffff).toString(16)}`}`).join(', ')} }`] : []),
    '\t}',
  ];
}

/** Named quota, limit and ct helper objects, each sometimes. */
function objects(c: Ctx): string[] {
  const r = c.r;
  const out: string[] = [];
  if (r.chance(0.25)) {
    // What is used already may not exceed the quota (the kernel refuses it: EINVAL).
    const kb = r.int(1, 500);
    out.push(`\tquota q_0 { ${r.chance(0.4) ? 'over ' : ''}${kb} kbytes${r.chance(0.2) ? ` used ${r.int(0, kb)} kbytes` : ''} }`);
    c.objects.push({ kind: 'quota', name: 'q_0' });
  }
  if (r.chance(0.25)) {
    const rate = r.chance(0.7) ? `${r.int(1, 100)}/${r.pick(['second', 'minute', 'hour'])}${r.chance(0.4) ? ` burst ${r.int(1, 20)} packets` : ''}` : `${r.int(1, 100)} kbytes/second`;
    out.push(`\tlimit l_0 { rate ${r.chance(0.3) ? 'over ' : ''}${rate} }`);
    c.objects.push({ kind: 'limit', name: 'l_0' });
  }
  if (r.chance(0.2)) {
    // The kernel's irc helper is IPv4 only (ip6 and inet tables get ENOENT).
    const [type, proto] = r.pick(HELPERS.filter(([t]) => t !== 'irc' || c.fam === 'ip'));
    const l3 = c.fam === 'inet' && r.chance(0.5) ? ` l3proto ${r.pick(['ip', 'ip6', 'inet'])};` : '';
    out.push(`\tct helper h_${type} {`, `\t\ttype "${type}" protocol ${proto};${l3}`, '\t}');
    c.objects.push({ kind: 'helper', name: `h_${type}` });
  }
  return out;
}

export function generate(seed: number): string {
  const r = new Rng(seed);
  const lines: string[] = [];
  if (r.chance(0.7)) lines.push('flush ruleset', '');
  const defines: Ctx['defines'] = [];
  const nd = r.int(0, 3);
  for (let i = 0; i < nd; i++) {
    const kind = r.pick(['addr4', 'port', 'portset', 'ifname'] as const);
    const name = `${kind.toUpperCase()}_${i}`;
    const value = kind === 'addr4' ? net4(r) : kind === 'port' ? String(r.int(1, 65535)) : kind === 'portset' ? `{ ${uniq(list(r, 3, () => String(r.int(1, 65535)))).join(', ')} }` : `"eth${r.int(0, 3)}"`;
    lines.push(`define ${name} = ${value}`);
    defines.push({ name, kind });
  }
  const ntables = r.int(1, 2);
  const used = new Set<string>();
  for (let t = 0; t < ntables; t++) {
    const fam = r.pick(['ip', 'ip6', 'inet', 'inet'] as const);
    const tname = r.pick(['filter', 'fw', 'main', 'nat_t']) + (used.has(fam) ? t : '');
    used.add(fam);
    const c: Ctx = { r, fam, chains: [], sets: [], maps: [], dataMaps: [], objects: [], meters: { n: 0 }, defines, objs: r.chance(0.3), anon: r.chance(0.5) };
    const nchains = r.int(1, 4);
    const names = ['input', 'forward', 'output', 'tcp_in', 'udp_in', 'log_drop', 'allow'];
    const chainNames = uniq(list(r, nchains, () => r.pick(names)));
    c.chains = chainNames;
    // Base chains are decided first: nothing may jump to them.
    const bases = new Set(chainNames.filter((n) => ['input', 'forward', 'output'].includes(n) || r.chance(0.15)));
    const body: string[] = [];
    if (c.objs) body.push('\tcounter cnt {', '\t}');
    const nsets = r.int(0, 2);
    for (let s = 0; s < nsets; s++) {
      const type = r.pick(fam === 'ip' ? ['ipv4_addr', 'inet_service', 'ifname', 'concat'] : fam === 'ip6' ? ['ipv6_addr', 'inet_service'] : ['ipv4_addr', 'ipv6_addr', 'inet_service', 'ifname', 'concat']);
      const name = `set_${s}`;
      if (type === 'concat') {
        const elems = uniq(list(r, r.int(1, 3), () => `${addr4(r)} . ${port(r)}`));
        body.push(`\tset ${name} {`, `\t\t${r.chance(0.5) ? 'type ipv4_addr . inet_service' : 'typeof ip saddr . tcp dport'}`, `\t\telements = {`, ...elems.map((e, k) => `\t\t\t${e}${k < elems.length - 1 ? ',' : ''}`), '\t\t}', '\t}');
        c.sets.push({ name, type, interval: false });
        continue;
      }
      const interval = type.endsWith('addr') && r.chance(0.6);
      const flags = [interval ? 'interval' : '', r.chance(0.2) ? 'constant' : ''].filter(Boolean);
      const elems = type === 'ipv4_addr' ? uniq(list(r, r.int(1, 3), () => (interval ? net4(r) : addr4(r)))) : type === 'ipv6_addr' ? uniq(list(r, r.int(1, 2), () => (interval ? net6(r) : addr6(r)))) : type === 'inet_service' ? uniq(list(r, 3, () => String(r.int(1, 65535)))) : ['"eth0"', '"lo"'];
      const typeDecl = r.chance(0.3) ? (type === 'ipv4_addr' ? 'typeof ip saddr' : type === 'ipv6_addr' ? 'typeof ip6 saddr' : type === 'inet_service' ? 'typeof tcp dport' : 'typeof iifname') : `type ${type}`;
      const elemText = r.chance(0.8) ? ` elements = { ${elems.join(', ')} }` : '';
      if (r.chance(0.5)) body.push(`\tset ${name} {`, `\t\t${typeDecl}`, ...(flags.length ? [`\t\tflags ${flags.join(', ')}`] : []), ...(elemText ? [`\t\t${elemText.trim()}`] : []), '\t}');
      else body.push(`\tset ${name} { ${typeDecl};${flags.length ? ` flags ${flags.join(',')};` : ''}${elemText} }`);
      c.sets.push({ name, type, interval });
    }
    if (r.chance(0.3)) {
      const targets = chainNames.filter((x) => !bases.has(x));
      const elems = uniq(list(r, r.int(1, 3), () => String(r.int(1, 65535)))).map((p) => `${p} : ${r.pick(['accept', 'drop', ...(targets.length ? [`jump ${targets[0]}`] : [])])}`);
      body.push(`\tmap ports_vm {`, '\t\ttype inet_service : verdict', `\t\telements = { ${elems.join(', ')} }`, '\t}');
      c.maps.push({ name: 'ports_vm' });
    }
    if (r.chance(0.3)) body.push(...dataMap(c));
    body.push(...objects(c));
    for (const name of chainNames) {
      const isBase = bases.has(name);
      body.push(`\tchain ${name} {`);
      if (isBase) {
        const hook = ['input', 'forward', 'output'].includes(name) ? name : r.pick(['input', 'prerouting']);
        const prio = r.pick(['0', 'filter', 'filter - 5', 'filter + 10', '-150', 'mangle', 'raw', 'security', '10']);
        const pol = r.chance(0.7) ? ` policy ${r.pick(['accept', 'drop'])};` : '';
        body.push(`\t\ttype filter hook ${hook} priority ${prio};${pol}`);
      }
      const nrules = r.int(0, 6);
      for (let k = 0; k < nrules; k++) {
        // Regular chains jump only to chains after them, so no loop is ever formed.
        const later = chainNames.slice(chainNames.indexOf(name) + 1).filter((x) => !bases.has(x));
        const cc: Ctx = { ...c, chains: later };
        body.push(`\t\t${rule(cc, name)}`);
      }
      body.push('\t}');
    }
    if (r.chance(0.25)) {
      const hook = r.pick(['postrouting', 'prerouting']);
      body.push('\tchain nat_' + hook + ' {', `\t\ttype nat hook ${hook} priority ${hook === 'postrouting' ? r.pick(['srcnat', '100']) : r.pick(['dstnat', '-100'])}; policy accept;`);
      if (hook === 'postrouting') body.push(`\t\toifname "eth0" ${r.pick(['masquerade', 'masquerade random', fam === 'ip' ? 'snat to 203.0.113.1' : 'counter'])}`);
      else body.push(`\t\t${fam === 'ip' ? `tcp dport 8080 dnat to 10.0.0.2:80` : 'tcp dport 8080 redirect to :80'}`);
      body.push('\t}');
    }
    if (r.chance(0.15)) {
      // Several rules on one line, a continued line, trailing comments.
      const nm = chainNames.find((x) => !['input', 'forward', 'output'].includes(x));
      if (nm) body.push(`\tchain ${nm}_x { counter; accept; }`, `\tchain ${nm}_y {`, `\t\tcounter \\`, `\t\t\taccept # done`, '\t}');
    }
    if (r.chance(0.2)) {
      lines.push(`add table ${fam} ${tname}`);
      lines.push(`add chain ${fam} ${tname} extra { type filter hook output priority 0; policy accept; }`);
      lines.push(`add rule ${fam} ${tname} extra ${rule({ ...c, chains: [] }, 'extra')}`);
      lines.push(`insert rule ${fam} ${tname} extra counter`);
    }
    lines.push(`table ${fam} ${tname} {`, ...body, '}');
    if (r.chance(0.1)) lines.push(r.pick([`flush table ${fam} ${tname}`, `delete chain ${fam} ${tname} ${chainNames[chainNames.length - 1]}`, `create table ${fam} ${tname}`, `flush chain ${fam} ${tname} ${chainNames[0]}`]));
    if (r.chance(0.15) && c.sets.length && c.sets[0].type !== 'concat') lines.push(`add element ${fam} ${tname} ${c.sets[0]?.name ?? 'nope'} { ${c.sets[0]?.type === 'ipv4_addr' ? (c.sets[0].interval ? net4(r) : addr4(r)) : c.sets[0]?.type === 'ipv6_addr' ? (c.sets[0].interval ? net6(r) : addr6(r)) : c.sets[0]?.type === 'ifname' ? '"eth9"' : '4444'} }`);
  }
  return lines.join('\n') + '\n';
}

const KEYWORDS = ['table', 'chain', 'type', 'filter', 'hook', 'priority', 'policy', 'accept', 'drop', 'saddr', 'daddr', 'dport', 'sport', 'counter', 'jump', 'goto', 'state', 'established', 'related', 'iifname', 'elements', 'flags', 'interval', 'define', 'reject', 'limit', 'rate', 'vmap', 'inet', 'ip6', 'ct', 'meta', 'l4proto', 'input', 'output', 'forward', 'return', 'set', 'map', 'log', 'prefix', 'icmp', 'icmpv6', 'tcp', 'udp', 'th'];

/** A mutation of a ruleset text; the kind says what was done. */
export function mutate(text: string, seed: number): { text: string; kind: string } {
  const r = new Rng(seed * 7919 + 17);
  const lines = text.split('\n');
  const kind = r.pick(['drop-token', 'drop-brace', 'misspell', 'bad-number', 'undefined-ref', 'duplicate']);
  const tokenRe = /"[^"]*"|[A-Za-z_][\w.-]*|\d[\w.:/-]*|[{}();,@$:!=<>/-]/g;
  const tokensOf = (ln: string): { t: string; i: number }[] => [...ln.matchAll(tokenRe)].map((m) => ({ t: m[0], i: m.index! }));
  const candidates = lines.map((l, i) => ({ l, i })).filter((x) => x.l.trim() && !x.l.trim().startsWith('#'));
  const replaceTok = (li: number, tok: { t: string; i: number }, by: string): void => {
    const l = lines[li];
    lines[li] = l.slice(0, tok.i) + by + l.slice(tok.i + tok.t.length);
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    const { i } = r.pick(candidates);
    const toks = tokensOf(lines[i]);
    if (!toks.length) continue;
    switch (kind) {
      case 'drop-token': {
        replaceTok(i, r.pick(toks), '');
        return { text: lines.join('\n'), kind };
      }
      case 'drop-brace': {
        const braces = toks.filter((t) => t.t === '{' || t.t === '}');
        if (!braces.length) continue;
        replaceTok(i, r.pick(braces), '');
        return { text: lines.join('\n'), kind };
      }
      case 'misspell': {
        const kws = toks.filter((t) => KEYWORDS.includes(t.t));
        if (!kws.length) continue;
        const k = r.pick(kws);
        const pos = r.int(0, k.t.length - 1);
        const ops = [k.t.slice(0, pos) + k.t.slice(pos + 1), k.t.slice(0, pos) + k.t[pos] + k.t[pos] + k.t.slice(pos + 1), k.t.slice(0, pos) + 'x' + k.t.slice(pos + 1)];
        replaceTok(i, k, r.pick(ops.filter((o) => o !== k.t && o.length)) ?? k.t + 'x');
        return { text: lines.join('\n'), kind };
      }
      case 'bad-number': {
        const nums = toks.filter((t) => /^\d/.test(t.t));
        if (!nums.length) continue;
        const n = r.pick(nums);
        let by: string;
        if (/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(n.t)) by = n.t.replace(/\/\d+$/, `/${r.pick([33, 40, 64])}`);
        else if (/^\d+\.\d+\.\d+\.\d+/.test(n.t)) by = n.t.replace(/^\d+/, String(r.int(256, 999)));
        else if (/^\d+$/.test(n.t)) by = String(r.pick([65536, 70000, 99999, 4294967296]));
        else by = n.t + '9999';
        replaceTok(i, n, by);
        return { text: lines.join('\n'), kind };
      }
      case 'undefined-ref': {
        const refs = toks.filter((t, k) => (t.t === '@' || t.t === '$') && toks[k + 1]);
        const jumps = toks.filter((t, k) => (t.t === 'jump' || t.t === 'goto') && toks[k + 1]);
        const pool = [...refs.map((t) => toks[toks.indexOf(t) + 1]), ...jumps.map((t) => toks[toks.indexOf(t) + 1])];
        if (!pool.length) continue;
        replaceTok(i, r.pick(pool), 'nosuch' + r.int(1, 9));
        return { text: lines.join('\n'), kind };
      }
      case 'duplicate': {
        lines.splice(i, 0, lines[i]);
        return { text: lines.join('\n'), kind };
      }
    }
  }
  return { text, kind: 'none' };
}

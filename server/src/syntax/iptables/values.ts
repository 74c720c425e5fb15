// Value parsers for extension options, one per kind of argument, each following what the
// corresponding iptables 1.8 extension accepts. A parser returns the parsed value, or an error
// message (iptables refuses the rule), or a warning (iptables accepts it but it is suspect).
import type { Family, IntRange } from '../../model/policy';
import { parseAddressList, parseSingleAddress } from './addresses';
import { parseIcmpType } from './icmp';
import { gaiPort, parsePort, parseProtocol, strtoui } from './numbers';
import type { OptionValue } from './tree';
import { dict } from '../../model/dict';

export interface ValueContext {
  family: Family;
  /** Name of the protocol given with -p (lowercased; a number is turned into its name), if any. */
  protoName: string | undefined;
  /** Option name, for messages. */
  option: string;
}

export interface ValueResult {
  value?: OptionValue;
  error?: string;
  warning?: string;
}

export interface ValueParser {
  /** Number of words the option takes: 0, 1, or 2 (the second only if it does not start with - or !). */
  nargs: 0 | 1 | 2;
  /** Reads the option's word (and its second word when nargs is 2). */
  parse?: (a: string, ctx: ValueContext, second: string) => ValueResult;
  /** The result depends on the rule's protocol (service names), not only on the word and family. */
  byProtocol?: boolean;
}

/** Words remembered per option and context before a memo starts over. */
const MEMO_LIMIT = 1024;

/**
 * The results of one option's parser by word. Rulesets repeat the same ports, states and ICMP
 * types thousands of times; a result is never modified, so the rules that repeat a word share it.
 * Warnings stay in the result, so every rule that repeats the word reports them again.
 */
export class ValueMemo {
  /** By family (and protocol, for parsers that depend on it), then by word. */
  private readonly contexts = new Map<number | string, Map<string, ValueResult>>();

  constructor(private readonly parser: ValueParser) {}

  parse(word: string, ctx: ValueContext): ValueResult {
    const parse = this.parser.parse as NonNullable<ValueParser['parse']>;
    const context = this.parser.byProtocol ? `${ctx.family} ${ctx.protoName ?? ''}` : ctx.family;
    let results = this.contexts.get(context);
    if (!results) { results = new Map(); this.contexts.set(context, results); }
    let r = results.get(word);
    if (r === undefined) {
      r = parse(word, ctx, '');
      if (results.size >= MEMO_LIMIT) results.clear();
      results.set(word, r);
    }
    return r;
  }
}

const ok = (value?: OptionValue): ValueResult => ({ value });
const bad = (error: string): ValueResult => ({ error });

function uint(min: number, max: number): ValueParser {
  return {
    nargs: 1,
    parse: (a, ctx) => {
      const v = strtoui(a, max, min);
      return v === undefined ? bad(`bad value \`${a}' for --${ctx.option} (expected ${min}-${max})`) : ok({ kind: 'number', value: v });
    },
  };
}

/** tcp/sctp/dccp `port[:port]`: numbers or service names of the protocol; min must not exceed max. */
function tcpStylePorts(proto: string): ValueParser {
  return {
    nargs: 1,
    parse: (a, ctx) => {
      const colon = a.indexOf(':');
      if (colon < 0) {
        const p = parsePort(a, proto);
        return p === undefined ? bad(`invalid ${proto.toUpperCase()} port or service \`${a}'`) : ok({ kind: 'ports', ranges: [{ lo: p, hi: p }] });
      }
      const loW = a.slice(0, colon);
      const hiW = a.slice(colon + 1);
      const lo = loW === '' ? 0 : parsePort(loW, proto);
      if (lo === undefined) return bad(`invalid ${proto.toUpperCase()} port or service \`${loW}'`);
      const hi = hiW === '' ? 65535 : parsePort(hiW, proto);
      if (hi === undefined) return bad(`invalid ${proto.toUpperCase()} port or service \`${hiW}'`);
      if (lo > hi) return bad(`invalid port range \`${a}': ${lo} is greater than ${hi}`);
      return ok({ kind: 'ports', ranges: [{ lo, hi }] });
    },
  };
}

/** udp `port[:port]` (xtopt_parse_mport): getaddrinfo ports; a reversed range is kept (it never matches). */
const udpPorts: ValueParser = {
  nargs: 1,
  parse: (a, ctx) => {
    const parts = a.split(':');
    if (parts.length > 2) return bad(`too many components in \`${a}' for --${ctx.option} (port or port:port)`);
    const ends: number[] = [];
    let warning: string | undefined;
    for (let i = 0; i < parts.length; i++) {
      if (parts.length === 2 && parts[i] === '') { ends.push(i === 0 ? 0 : 65535); continue; }
      const p = gaiPort(parts[i]);
      if (!p) return bad(`port \`${parts[i]}' does not resolve to anything`);
      if (p.wrapped) warning = `port ${parts[i]} is out of range; iptables keeps its low 16 bits (${p.port})`;
      ends.push(p.port);
    }
    const lo = ends[0];
    const hi = ends.length > 1 ? ends[1] : lo;
    if (lo > hi) warning = `port range \`${a}' is reversed (${lo} > ${hi}): this never matches`;
    return { value: { kind: 'ports', ranges: lo > hi ? [] : [{ lo, hi }] }, warning };
  },
};

/** multiport list: up to 15 ports, a range counting as two; names resolved for the rule's protocol. */
const multiPorts: ValueParser = {
  nargs: 1,
  byProtocol: true,
  parse: (a, ctx) => {
    const proto = ctx.protoName ?? 'tcp';
    const ranges: IntRange[] = [];
    let slots = 0;
    for (const el of a.split(',')) {
      const colon = el.indexOf(':');
      const loW = colon < 0 ? el : el.slice(0, colon);
      const lo = parsePort(loW, proto);
      if (lo === undefined) return bad(`invalid port or service \`${loW}'`);
      let hi = lo;
      if (colon >= 0) {
        const hiW = el.slice(colon + 1);
        const h = parsePort(hiW, proto);
        if (h === undefined) return bad(`invalid port or service \`${hiW}'`);
        if (lo > h) return bad(`invalid port range \`${el}': ${lo} is greater than ${h}`);
        hi = h;
        slots += 2;
      } else slots += 1;
      if (slots > 15) return bad('too many ports: multiport takes at most 15 (a range counts as two)');
      ranges.push({ lo, hi });
    }
    return ok({ kind: 'ports', ranges });
  },
};

const icmp4: ValueParser = { nargs: 1, parse: (a) => icmp(a, false) };
const icmp6: ValueParser = { nargs: 1, parse: (a) => icmp(a, true) };

function icmp(a: string, v6: boolean): ValueResult {
  const r = parseIcmpType(a, v6);
  return 'error' in r ? bad(r.error) : ok({ kind: 'icmp', icmp: r.value });
}

/** A comma list whose elements must each be a case-insensitive prefix of a name (conntrack states). */
function prefixList(names: string[], what: string): ValueParser {
  return {
    nargs: 1,
    parse: (a) => {
      const out: string[] = [];
      let from = 0;
      for (;;) {
        const comma = a.indexOf(',', from);
        const el = comma < 0 ? (from === 0 ? a : a.slice(from)) : a.slice(from, comma);
        const up = el.toUpperCase();
        let hit: string | undefined;
        if (el !== '') for (const n of names) if (n.startsWith(up)) { hit = n; break; }
        if (!hit) return bad(`bad ${what} \`${el}' (expected ${names.join(', ')})`);
        if (!out.includes(hit)) out.push(hit);
        if (comma < 0) break;
        from = comma + 1;
      }
      return ok({ kind: 'states', states: out });
    },
  };
}

/** addrtype's comma list of types; the kernel refuses some of them for IPv6. */
const ADDR_TYPES_NOT_V6 = ['BROADCAST', 'BLACKHOLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'];
const addrTypes: ValueParser = {
  nargs: 1,
  parse: (a, ctx) => {
    for (const el of a.split(',')) {
      const up = el.toUpperCase();
      if (!ADDR_TYPES.includes(up)) return bad(`bad address type \`${el}' (expected ${ADDR_TYPES.join(', ')})`);
      if (ctx.family === 6 && ADDR_TYPES_NOT_V6.includes(up)) return bad(`address type ${up} cannot be matched for IPv6`);
    }
    return ok({ kind: 'text', text: a });
  },
};

/**
 * DNAT/SNAT `--to-destination`/`--to-source` and MASQUERADE/REDIRECT `--to-ports`:
 * `[addr[-addr]][:port[-port]]`, IPv6 addresses in brackets when a port follows. The value is
 * 'ports' when a port is given (the caller checks the protocol), else 'addr'.
 */
function natRange(portsOnly: boolean): ValueParser {
  return {
    nargs: 1,
    parse: (a, ctx) => {
      let addrPart = a;
      let portPart: string | undefined;
      if (portsOnly) { addrPart = ''; portPart = a; }
      else if (ctx.family === 6 && a.startsWith('[')) {
        const close = a.indexOf(']');
        if (close < 0) return bad(`missing \`]' in \`${a}'`);
        addrPart = a.slice(1, close);
        const rest = a.slice(close + 1);
        if (rest !== '' && !rest.startsWith(':')) return bad(`unexpected \`${rest}' after the address`);
        if (rest !== '') portPart = rest.slice(1);
      } else if (ctx.family === 4) {
        const colon = a.indexOf(':');
        if (colon >= 0) { addrPart = a.slice(0, colon); portPart = a.slice(colon + 1); }
      }
      if (addrPart !== '') {
        for (const end of addrPart.split('-')) {
          if (parseSingleAddress(end, ctx.family) === undefined) return bad(`bad IP address \`${end}'`);
        }
      }
      if (portPart !== undefined && !/^[0-9]+(-[0-9]+)?(\/[0-9]+)?$/.test(portPart)) return bad(`bad port \`${portPart}'`);
      return ok({ kind: 'text', text: portPart !== undefined ? 'ports' : 'addr' });
    },
  };
}

function oneOf(names: string[], what: string, caseSensitive = false): ValueParser {
  return {
    nargs: 1,
    parse: (a) => {
      const w = caseSensitive ? a : a.toLowerCase();
      return names.includes(w) ? ok({ kind: 'text', text: a }) : bad(`bad ${what} \`${a}' (expected ${names.join(', ')})`);
    },
  };
}

const text: ValueParser = { nargs: 1, parse: (a) => ok({ kind: 'text', text: a }) };
const text2: ValueParser = { nargs: 2, parse: (a, _ctx, second) => ok({ kind: 'text', text: `${a} ${second}` }) };
const flag: ValueParser = { nargs: 0 };

/** limit's rate: N[/second|minute|hour|day] (any prefix of the unit), at most 10000 per second. */
const rate: ValueParser = {
  nargs: 1,
  parse: (a, ctx) => {
    const slash = a.indexOf('/');
    let mult = 1;
    if (slash >= 0) {
      const unit = a.slice(slash + 1).toLowerCase();
      if (unit === '') return bad(`bad rate \`${a}'`);
      if ('second'.startsWith(unit)) mult = 1;
      else if ('minute'.startsWith(unit)) mult = 60;
      else if ('hour'.startsWith(unit)) mult = 3600;
      else if ('day'.startsWith(unit)) mult = 86400;
      else return bad(`bad rate \`${a}' (the unit is /second, /minute, /hour or /day)`);
    }
    const r = atoi(a);
    if (r <= 0) return bad(`bad rate \`${a}' for --${ctx.option}`);
    if (Math.floor((10000 * mult) / r) === 0) return bad(`rate too fast \`${a}' (at most 10000/second)`);
    return ok({ kind: 'text', text: a });
  },
};

/** C atoi: leading whitespace, a sign, then digits up to the first non-digit. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s);
  if (!m || m[2] === '') return 0;
  const v = Number(m[2].slice(0, 12));
  return m[1] === '-' ? -v : v;
}

/** value[/mask], both 32-bit base-0 numbers (mark, connmark, MARK --set-mark). */
const markMask: ValueParser = {
  nargs: 1,
  parse: (a, ctx) => {
    const slash = a.indexOf('/');
    const v = strtoui(slash < 0 ? a : a.slice(0, slash), 0xffffffff);
    const m = slash < 0 ? 0xffffffff : strtoui(a.slice(slash + 1), 0xffffffff);
    if (v === undefined || m === undefined) return bad(`bad value \`${a}' for --${ctx.option} (value[/mask], 32-bit numbers)`);
    return ok({ kind: 'text', text: a });
  },
};

const mac: ValueParser = {
  nargs: 1,
  parse: (a) => {
    const parts = a.split(':');
    if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return bad(`invalid MAC address \`${a}'`);
    return ok({ kind: 'text', text: a });
  },
};

/** uint16 range `a`, `a:b`, `:b`, `a:` (length, tcpmss); a reversed range is accepted. */
function uintRange(max: number): ValueParser {
  return {
    nargs: 1,
    parse: (a, ctx) => {
      const parts = a.split(':');
      if (parts.length > 2) return bad(`too many components in \`${a}' for --${ctx.option}`);
      for (let i = 0; i < parts.length; i++) {
        if (parts.length === 2 && parts[i] === '') continue;
        if (strtoui(parts[i], max) === undefined) return bad(`bad value \`${parts[i]}' for --${ctx.option} (expected 0-${max})`);
      }
      return ok({ kind: 'text', text: a });
    },
  };
}

/** `--tcp-flags MASK COMP`: comma lists of flag names; empty elements are skipped as strtok does. */
const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ALL', 'NONE'];
function unknownTcpFlag(list: string): string | undefined {
  for (const f of list.split(',')) if (f !== '' && !TCP_FLAGS.includes(f.toUpperCase())) return f;
  return undefined;
}
const tcpFlags: ValueParser = {
  nargs: 2,
  parse: (mask, _ctx, comp) => {
    const unknown = unknownTcpFlag(mask) ?? unknownTcpFlag(comp);
    if (unknown !== undefined) return bad(`unknown TCP flag \`${unknown}'`);
    return ok({ kind: 'text', text: `${mask} ${comp}` });
  },
};

const ipset: ValueParser = {
  nargs: 2,
  parse: (name, _ctx, dirs) => {
    if (!/^(src|dst)(,(src|dst)){0,5}$/.test(dirs)) return bad(`set flags \`${dirs}' must be a comma-separated list of src and dst`);
    return ok({ kind: 'text', text: `${name} ${dirs}` });
  },
};

/** iprange `from[-to]`: numeric addresses of the rule's family. */
const ipRange: ValueParser = {
  nargs: 1,
  parse: (a, ctx) => {
    const dash = a.indexOf('-');
    const fw = dash < 0 ? a : a.slice(0, dash);
    const tw = dash < 0 ? a : a.slice(dash + 1);
    const first = parseSingleAddress(fw, ctx.family);
    if (first === undefined) return bad(`bad address \`${fw}' in --${ctx.option}`);
    const last = parseSingleAddress(tw, ctx.family);
    if (last === undefined) return bad(`bad address \`${tw}' in --${ctx.option}`);
    const value: OptionValue = { kind: 'range', family: ctx.family, first, last };
    if (first > last) return { value, warning: `range \`${a}' is reversed: it never matches` };
    return ok(value);
  },
};

/** `address[/mask]` for conntrack's --ctorigsrc and friends. */
const addrMask: ValueParser = {
  nargs: 1,
  parse: (a, ctx) => {
    const { addrs, errors } = parseAddressList(a, ctx.family);
    if (errors.length > 0) return bad(errors[0].message);
    return ok({ kind: 'addrs', addrs });
  },
};

const protoName: ValueParser = {
  nargs: 1,
  parse: (a) => {
    const p = parseProtocol(a.toLowerCase());
    return p === undefined ? bad(`unknown protocol \`${a}'`) : ok({ kind: 'proto', proto: p });
  },
};

const iface: ValueParser = {
  nargs: 1,
  parse: (a) => (a.length >= 16 ? bad(`interface name \`${a}' must be shorter than 16 characters`) : ok({ kind: 'iface', name: a })),
};

const LOG_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];
const logLevel: ValueParser = {
  nargs: 1,
  parse: (a) => {
    if (LOG_LEVELS.includes(a) || strtoui(a, 7) !== undefined) return ok({ kind: 'text', text: a });
    return bad(`log level \`${a}' unknown (0-7 or ${LOG_LEVELS.join(', ')})`);
  },
};

/** REJECT --reject-with: the first entry the word is a case-insensitive prefix of wins. */
function rejectWith(names: string[]): ValueParser {
  return {
    nargs: 1,
    parse: (a) => {
      const w = a.toLowerCase();
      const hit = names.find((n) => n.startsWith(w));
      return hit ? ok({ kind: 'text', text: hit }) : bad(`unknown reject type \`${a}' (expected ${names.filter((_, i) => i % 2 === 0).join(', ')})`);
    },
  };
}

export const REJECT4 = [
  'icmp-net-unreachable', 'net-unreach', 'icmp-host-unreachable', 'host-unreach', 'icmp-proto-unreachable', 'proto-unreach',
  'icmp-port-unreachable', 'port-unreach', 'icmp-net-prohibited', 'net-prohib', 'icmp-host-prohibited', 'host-prohib',
  'tcp-reset', 'tcp-rst', 'icmp-admin-prohibited', 'admin-prohib',
];
export const REJECT6 = [
  'icmp6-no-route', 'no-route', 'icmp6-adm-prohibited', 'adm-prohibited', 'icmp6-addr-unreachable', 'addr-unreach',
  'icmp6-port-unreachable', 'port-unreach', 'tcp-reset', 'tcp-reset', 'icmp6-policy-fail', 'policy-fail',
  'icmp6-reject-route', 'reject-route',
];

const CT_STATES = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'SNAT', 'DNAT', 'UNTRACKED'];
const STATES = ['INVALID', 'ESTABLISHED', 'NEW', 'RELATED', 'UNTRACKED'];
const ADDR_TYPES = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'];
const PKT_TYPES = ['unicast', 'broadcast', 'multicast', 'otherhost', 'host'];

/** Parsers by the names the extension tables use. */
export const PARSERS = dict<ValueParser>({
  flag,
  text,
  text2,
  u8: uint(0, 255),
  'u8+': uint(1, 255),
  u16: uint(0, 65535),
  u32: uint(0, 0xffffffff),
  'u32+': uint(1, 0xffffffff),
  u64: uint(0, Number.MAX_SAFE_INTEGER),
  burst: uint(0, 10000),
  tcpport: tcpStylePorts('tcp'),
  sctpport: tcpStylePorts('sctp'),
  dccpport: tcpStylePorts('dccp'),
  udpport: udpPorts,
  mports: multiPorts,
  icmp4,
  icmp6,
  ctstate: prefixList(CT_STATES, 'ctstate'),
  state: prefixList(STATES, 'state'),
  addrtypes: addrTypes,
  natrange: natRange(false),
  natports: natRange(true),
  pkttype: oneOf(PKT_TYPES, 'packet type'),
  ctdir: oneOf(['original', 'reply'], 'direction'),
  rate,
  markmask: markMask,
  mac,
  u16range: uintRange(65535),
  u32range: uintRange(0xffffffff),
  tcpflags: tcpFlags,
  ipset,
  iprange: ipRange,
  addrmask: addrMask,
  proto: protoName,
  iface,
  loglevel: logLevel,
  reject4: rejectWith(REJECT4),
  reject6: rejectWith(REJECT6),
});

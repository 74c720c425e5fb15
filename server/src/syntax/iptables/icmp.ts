// ICMP and ICMPv6 type words (`--icmp-type`, `--icmpv6-type`) as iptables 1.8 reads them: a
// name from iptables' table, matched case-insensitively by *prefix* (an abbreviation that fits
// two names is an error), or `type[/code]` as base-0 numbers 0-255.
import type { IntRange } from '../../model/policy';
import { strtoui } from './numbers';

interface IcmpName { name: string; lower: string; type: number; lo: number; hi: number }

function entries(src: string): IcmpName[] {
  return src.trim().split(/\s+/).map((e) => {
    const [name, t, c] = e.split(':');
    const type = Number(t);
    const code = c === undefined ? undefined : Number(c);
    return { name, lower: name.toLowerCase(), type, lo: code ?? 0, hi: code ?? 255 };
  });
}

// The order of iptables' tables (aliases follow their name), verified against iptables-save.
const ICMP4 = entries(`
  any:255 echo-reply:0 pong:0 destination-unreachable:3 network-unreachable:3:0 host-unreachable:3:1
  protocol-unreachable:3:2 port-unreachable:3:3 fragmentation-needed:3:4 source-route-failed:3:5
  network-unknown:3:6 host-unknown:3:7 network-prohibited:3:9 host-prohibited:3:10
  TOS-network-unreachable:3:11 TOS-host-unreachable:3:12 communication-prohibited:3:13
  host-precedence-violation:3:14 precedence-cutoff:3:15 source-quench:4 redirect:5
  network-redirect:5:0 host-redirect:5:1 TOS-network-redirect:5:2 TOS-host-redirect:5:3
  echo-request:8 ping:8 router-advertisement:9 router-solicitation:10 time-exceeded:11
  ttl-exceeded:11 ttl-zero-during-transit:11:0 ttl-zero-during-reassembly:11:1 parameter-problem:12
  ip-header-bad:12:0 required-option-missing:12:1 timestamp-request:13 timestamp-reply:14
  address-mask-request:17 address-mask-reply:18`);

const ICMP6 = entries(`
  destination-unreachable:1 no-route:1:0 communication-prohibited:1:1 beyond-scope:1:2
  address-unreachable:1:3 port-unreachable:1:4 failed-policy:1:5 reject-route:1:6 packet-too-big:2
  time-exceeded:3 ttl-exceeded:3 ttl-zero-during-transit:3:0 ttl-zero-during-reassembly:3:1
  parameter-problem:4 bad-header:4:0 unknown-header-type:4:1 unknown-option:4:2 echo-request:128
  ping:128 echo-reply:129 pong:129 router-solicitation:133 router-advertisement:134
  neighbour-solicitation:135 neighbor-solicitation:135 neighbour-advertisement:136
  neighbor-advertisement:136 redirect:137`);

/** The ICMP match's value: a type with a code range, or every ICMP packet (`any`, type 255). */
export interface IcmpValue {
  /** type*256+code keys as the model packs them. */
  keys: IntRange;
  any: boolean;
}

export type IcmpResult = { value: IcmpValue } | { error: string };

/** Parses an `--icmp-type` (v4) or `--icmpv6-type` (v6) word. */
export function parseIcmpType(word: string, v6: boolean): IcmpResult {
  const table = v6 ? ICMP6 : ICMP4;
  const what = v6 ? 'ICMPv6' : 'ICMP';
  const lower = word.toLowerCase();
  let found: IcmpName | undefined;
  for (let i = 0; i < table.length; i++) {
    const e = table[i];
    if (e.lower.startsWith(lower)) {
      if (found) return { error: `ambiguous ${what} type \`${word}': \`${found.name}' or \`${e.name}'?` };
      found = e;
    }
  }
  if (found) return { value: toValue(found.type, found.lo, found.hi, v6) };
  const slash = word.indexOf('/');
  const typeWord = slash < 0 ? word : word.slice(0, slash);
  const type = strtoui(typeWord, 255);
  if (type === undefined) return { error: `unknown ${what} type \`${word}'` };
  if (slash < 0) return { value: toValue(type, 0, 255, v6) };
  const code = strtoui(word.slice(slash + 1), 255);
  if (code === undefined) return { error: `unknown ${what} code \`${word}'` };
  return { value: toValue(type, code, code, v6) };
}

function toValue(type: number, lo: number, hi: number, v6: boolean): IcmpValue {
  // For IPv4 the kernel treats type 255 as "any ICMP packet" (icmp_type_code_match).
  const any = !v6 && type === 255;
  return { keys: { lo: type * 256 + lo, hi: type * 256 + hi }, any };
}

export function icmpTypeNames(v6: boolean): string[] {
  return (v6 ? ICMP6 : ICMP4).map((e) => e.name);
}

// A packet as a user writes it (`--src 10.0.0.1 --proto tcp --dport 22`) turned into a concrete
// packet, with the defaults DESIGN.md fixes: state NEW, an interface and a source port no rule names.
import type { Condition, Policy } from '../model/policy';
import { parseAddr } from '../model/address';
import { icmpKeyRange, parseIcmpType } from '../packets/icmp';
import { protocolNumber } from '../packets/services';
import { Packet, State, STATES } from '../packets/space';

export interface PacketSpec {
  src?: string;
  dst?: string;
  proto?: string | number;
  sport?: string | number;
  dport?: string | number;
  icmpType?: string | number;
  in?: string;
  out?: string;
  state?: string;
}

export type SpecResult = { ok: true; packet: Packet } | { ok: false; error: string };

/** Stands for "an interface that no rule names": sorts before every real name. */
export const UNNAMED_INTERFACE = '';

export function packetFromSpec(spec: PacketSpec, policy: Policy): SpecResult {
  if (!spec.src || !spec.dst) return { ok: false, error: 'a packet needs both --src and --dst' };
  const src = parseAddr(String(spec.src));
  if (!src) return { ok: false, error: `--src: '${spec.src}' is not an IPv4 or IPv6 address` };
  const dst = parseAddr(String(spec.dst));
  if (!dst) return { ok: false, error: `--dst: '${spec.dst}' is not an IPv4 or IPv6 address` };
  if (src.family !== dst.family) return { ok: false, error: `--src and --dst are of different address families` };
  if (!policy.families.includes(src.family)) return { ok: false, error: `this file is about IPv${policy.families.join('/IPv')} only, not IPv${src.family}` };
  const v6 = src.family === 6;

  let proto = 0;
  if (spec.proto !== undefined && spec.proto !== '') {
    const text = String(spec.proto).toLowerCase();
    const n = /^\d+$/.test(text) ? Number(text) : protocolNumber(text);
    if (n === undefined || n > 255) return { ok: false, error: `--proto: unknown protocol '${spec.proto}'` };
    proto = v6 && n === 1 ? 58 : n; // "icmp" on an IPv6 packet means ICMPv6
  }
  const hasPorts = proto === 6 || proto === 17 || proto === 132 || proto === 136;
  let dport = 0;
  let sport = 0;
  if (hasPorts) {
    if (spec.dport === undefined || spec.dport === '') return { ok: false, error: `a ${protoLabel(proto)} packet needs --dport` };
    const d = port(spec.dport);
    if (d === undefined) return { ok: false, error: `--dport: '${spec.dport}' is not a port (0-65535)` };
    dport = d;
    if (spec.sport === undefined || spec.sport === '') sport = unnamedSourcePort(policy);
    else {
      const s = port(spec.sport);
      if (s === undefined) return { ok: false, error: `--sport: '${spec.sport}' is not a port (0-65535)` };
      sport = s;
    }
  } else if ((spec.dport !== undefined && spec.dport !== '') || (spec.sport !== undefined && spec.sport !== '')) {
    return { ok: false, error: `--sport/--dport need --proto tcp, udp, sctp or udplite` };
  }
  let icmp = 0;
  if (proto === 1 || proto === 58) {
    const key = parseIcmpType(String(spec.icmpType ?? 'echo-request'), proto === 58);
    if (!key) return { ok: false, error: `--icmp-type: unknown ICMP${proto === 58 ? 'v6' : ''} type '${spec.icmpType}'` };
    icmp = icmpKeyRange({ type: key.type, code: key.code ?? 0 }).lo;
  } else if (spec.icmpType !== undefined && spec.icmpType !== '') {
    return { ok: false, error: `--icmp-type needs --proto icmp${v6 ? 'v6' : ''}` };
  }
  const state = (spec.state ?? 'NEW').toUpperCase();
  if (!(STATES as readonly string[]).includes(state)) return { ok: false, error: `--state: '${spec.state}' is not one of ${STATES.join(', ')}` };
  return {
    ok: true,
    packet: {
      family: src.family, src: src.value, dst: dst.value, proto, sport, dport, icmp,
      iif: spec.in ?? UNNAMED_INTERFACE, oif: spec.out ?? UNNAMED_INTERFACE, state: state as State,
    },
  };
}

function port(v: string | number): number | undefined {
  const s = String(v);
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

function protoLabel(p: number): string {
  return p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 132 ? 'sctp' : 'udplite';
}

/** The lowest ephemeral port (from 32768 up) inside no source-port condition of the policy. */
export function unnamedSourcePort(policy: Policy): number {
  const ranges: { lo: number; hi: number }[] = [];
  const collect = (conds: readonly Condition[]) => {
    for (const c of conds) {
      if (c.field === 'sport') ranges.push(...c.ports);
      else if (c.field === 'any') c.alternatives.forEach(collect);
    }
  };
  for (const t of policy.tables) for (const ch of t.chains.values()) for (const r of ch.rules) collect(r.conditions);
  ranges.sort((a, b) => a.lo - b.lo);
  for (const start of [32768, 1024, 0]) {
    let p = start;
    for (const r of ranges) if (r.lo <= p && p <= r.hi) p = r.hi + 1;
    // One pass over sorted ranges can miss a range that starts below p after p moved; check again.
    if (p <= 65535 && !ranges.some((r) => r.lo <= p && p <= r.hi)) return p;
  }
  return 65535;
}

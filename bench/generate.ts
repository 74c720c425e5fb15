// Realistic generated rulesets for the benchmarks: prefixes of all lengths, single ports, ranges and
// multiport lists, tcp/udp/icmp, user chains jumped to from INPUT, a conntrack rule first and a
// default deny last. Seeded, so every run measures the same files.
import { Rng } from '../test/rng';

/** Prefix lengths weighted as real rulesets use them: many /32 and /24, some /16, few short ones. */
function prefix(g: Rng, len = g.pick([32, 32, 32, 32, 32, 32, 24, 24, 24, 24, 28, 29, 30, 27, 26, 25, 23, 22, 20, 19, 16, 16, 12])): string {
  const a = g.int(1, 223);
  const addr = ((a << 24) | (g.int(0, 255) << 16) | (g.int(0, 255) << 8) | g.int(0, 255)) >>> 0;
  const net = len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
  return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${len}`;
}

const PORTS = [22, 25, 53, 110, 143, 443, 465, 587, 993, 995, 1194, 3306, 5432, 6379, 8080, 8443, 9090, 9200, 27017];

function match(g: Rng): string {
  const parts: string[] = [];
  // Nearly every rule names its source; the few open to everyone are for public web ports.
  if (g.next() < 0.01) return `-p tcp -m tcp --dport ${g.pick([80, 443])}`;
  parts.push(`-s ${prefix(g)}`);
  if (g.next() < 0.15) parts.push(`-d ${prefix(g)}`);
  if (g.next() < 0.1) parts.push(`-i ${g.pick(['eth0', 'eth1', 'ens3', 'wg+', 'eth+'])}`);
  const p = g.next();
  if (p < 0.6) {
    const port = g.next();
    if (port < 0.6) parts.push(`-p tcp -m tcp --dport ${g.pick(PORTS)}`);
    else if (port < 0.8) {
      const lo = g.int(1024, 60000);
      parts.push(`-p tcp -m tcp --dport ${lo}:${lo + g.int(1, 2000)}`);
    } else parts.push(`-p tcp -m multiport --dports ${[g.pick(PORTS), g.pick(PORTS), g.pick(PORTS)].join(',')}`);
  } else if (p < 0.85) parts.push(`-p udp -m udp --dport ${g.pick([53, 123, 161, 500, 1194, 4500, 51820])}`);
  else if (p < 0.92) parts.push(`-p icmp -m icmp --icmp-type ${g.pick(['8', '0', '3/4', '11'])}`);
  return parts.join(' ');
}

export function generateIptables(rules: number, seed = 1): string {
  const g = new Rng(seed);
  const lines = ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]'];
  const chainCount = Math.max(1, Math.floor(rules / 500));
  const chains = Array.from({ length: chainCount }, (_, i) => `CUST${i}`);
  for (const c of chains) lines.push(`:${c} - [0:0]`);
  lines.push('-A INPUT -i lo -j ACCEPT');
  lines.push('-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  let emitted = 2;
  const perChain = Math.floor(rules * 0.5 / chainCount);
  // Half the rules live in user chains, each reached by one jump from INPUT.
  for (const c of chains) {
    lines.push(`-A INPUT -s ${prefix(g, 8)} -j ${c}`);
    emitted++;
    for (let i = 0; i < perChain; i++) {
      lines.push(`-A ${c} ${match(g)} -j ${g.next() < 0.7 ? 'ACCEPT' : g.next() < 0.8 ? 'DROP' : 'RETURN'}`);
      emitted++;
    }
  }
  while (emitted < rules - 1) {
    lines.push(`-A INPUT ${match(g)} -j ${g.next() < 0.65 ? 'ACCEPT' : g.next() < 0.7 ? 'DROP' : 'REJECT --reject-with icmp-port-unreachable'}`);
    emitted++;
  }
  lines.push('-A INPUT -j DROP');
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}

function nftMatch(g: Rng): string {
  const parts: string[] = [];
  if (g.next() < 0.01) return `tcp dport ${g.pick([80, 443])}`;
  parts.push(`ip saddr ${prefix(g)}`);
  if (g.next() < 0.15) parts.push(`ip daddr ${prefix(g)}`);
  if (g.next() < 0.1) parts.push(`iifname "${g.pick(['eth0', 'eth1', 'ens3', 'wg*'])}"`);
  const p = g.next();
  if (p < 0.6) {
    const port = g.next();
    if (port < 0.6) parts.push(`tcp dport ${g.pick(PORTS)}`);
    else if (port < 0.8) {
      const lo = g.int(1024, 60000);
      parts.push(`tcp dport ${lo}-${lo + g.int(1, 2000)}`);
    } else parts.push(`tcp dport { ${[...new Set([g.pick(PORTS), g.pick(PORTS), g.pick(PORTS)])].join(', ')} }`);
  } else if (p < 0.85) parts.push(`udp dport ${g.pick([53, 123, 161, 500, 1194, 4500, 51820])}`);
  else if (p < 0.92) parts.push(`icmp type ${g.pick(['echo-request', 'echo-reply', 'time-exceeded'])}`);
  return parts.join(' ');
}

export function generateNftables(rules: number, seed = 1): string {
  const g = new Rng(seed);
  const chainCount = Math.max(1, Math.floor(rules / 500));
  const out: string[] = ['table inet filter {'];
  const perChain = Math.floor(rules * 0.5 / chainCount);
  let emitted = 0;
  for (let c = 0; c < chainCount; c++) {
    out.push(`  chain cust${c} {`);
    for (let i = 0; i < perChain; i++) {
      out.push(`    ${nftMatch(g)} ${g.next() < 0.7 ? 'accept' : g.next() < 0.8 ? 'drop' : 'return'}`);
      emitted++;
    }
    out.push('  }');
  }
  out.push('  chain input {', '    type filter hook input priority filter; policy drop;', '    iifname "lo" accept', '    ct state established,related accept');
  emitted += 2;
  for (let c = 0; c < chainCount; c++) {
    out.push(`    ip saddr ${prefix(g, 8)} jump cust${c}`);
    emitted++;
  }
  while (emitted < rules) {
    out.push(`    ${nftMatch(g)} ${g.next() < 0.65 ? 'accept' : g.next() < 0.7 ? 'drop' : 'reject'}`);
    emitted++;
  }
  out.push('  }', '}');
  return out.join('\n') + '\n';
}

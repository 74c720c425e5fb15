// What the two kernel suites (iptables, nftables) share for their reports: counts for the coverage
// lines, packets as the JSON lines `fwlens query --packets` reads, and a failing case's artefacts.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatIp } from './addr';
import type { Packet } from './iptables-gen';

/** "a 3, b 1": how often each value occurs, in sorted order. */
export function countBy(xs: string[]): string {
  const m: Record<string, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return Object.entries(m).sort().map(([k, v]) => `${k} ${v}`).join(', ');
}

/** How a mismatch shows its packet: the query's flags, what it was aimed at, what went on the wire. */
export function packetEntry(p: Packet): { packet: Packet['spec']; aimedAt: string; wire: Record<string, unknown> } {
  return {
    packet: p.spec,
    aimedAt: p.aim >= 0 ? `line ${p.aim + 1}` : 'random',
    wire: { family: p.family, state: p.state, proto: p.proto, icmp: p.icmpType === undefined ? undefined : `${p.icmpType}/${p.icmpCode}`, src: formatIp(p.family, p.src), dst: formatIp(p.family, p.dst) },
  };
}

export function packetLines(packets: { spec: unknown }[]): string {
  return packets.map((p) => JSON.stringify(p.spec)).join('\n') + '\n';
}

/**
 * Writes a failing case into `dir`: its files (ruleset, packets, kernel dump...), fwlens's output
 * when there is one, the finding as `name`, and how to reproduce it. Returns the folder.
 */
export function writeCase(dir: string, files: Record<string, string>, name: string, data: unknown, engineOut: string | undefined, reproduce: string): string {
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  if (engineOut !== undefined) writeFileSync(path.join(dir, 'fwlens-output.jsonl'), engineOut);
  writeFileSync(path.join(dir, name), JSON.stringify(data, null, 2) + '\n');
  writeFileSync(path.join(dir, 'REPRODUCE'), reproduce);
  return dir;
}

// The Node side of the kernel oracle: namespaces up and down, one ruleset's packets through the
// real kernel (netns_driver.py does the packet work), and the counters turned back into "which
// line of the generated file decided".
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { formatIp } from './addr';
import { GenRule, Packet, RECV_IFACES, Ruleset, TERMINAL } from './iptables-gen';

export const DRIVER = path.join(__dirname, 'netns_driver.py');

/** Why the kernel suite cannot run here, or undefined when it can. */
export function kernelUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root';
  const py = spawnSync('python3', [DRIVER, 'check'], { encoding: 'utf8' });
  if (py.error) return 'no python3';
  if (py.status !== 0) return (py.stdout || py.stderr).trim() || 'driver check failed';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return 'no `ip netns`';
  return undefined;
}

export class Namespaces {
  readonly recv: string;
  readonly send: string;
  private up = false;

  constructor(tag: string) {
    this.recv = `fwlk-${tag}-r`;
    this.send = `fwlk-${tag}-s`;
  }

  setup(): void {
    const r = spawnSync('python3', [DRIVER, 'setup', this.recv, this.send, ...RECV_IFACES], { encoding: 'utf8' });
    this.up = true;
    if (r.status !== 0) throw new Error(`namespace setup failed: ${r.stderr || r.stdout}`);
  }

  teardown(): void {
    if (!this.up) return;
    spawnSync('python3', [DRIVER, 'teardown', this.recv, this.send], { encoding: 'utf8' });
    this.up = false;
  }
}

/** Namespaces left behind by runs that were killed (their pid is gone). */
export function removeStaleNamespaces(): void {
  if (!existsSync('/run/netns')) return;
  for (const name of readdirSync('/run/netns')) {
    const m = /^fwlk-(\d+)-[a-z0-9]+-r$/.exec(name);
    if (!m) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      alive = false;
    }
    if (!alive) spawnSync('python3', [DRIVER, 'teardown', name, name.replace(/-r$/, '-s')]);
  }
}

export interface DriverResult {
  loadError?: string;
  loaded?: Record<string, number>;
  results?: { hits: [string, number, number][]; policies: Record<string, number>; complete: boolean; clean: boolean; attempts?: unknown[] }[];
  saved?: string;
}

/** A child process, asynchronously (so that signals are handled and namespaces torn down). */
export function run(cmd: string, args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

export async function runInKernel(ns: Namespaces, rs: Ruleset, packets: Packet[]): Promise<DriverResult> {
  const job = {
    recv: ns.recv,
    send: ns.send,
    family: rs.family,
    ifaces: RECV_IFACES,
    rules: rs.text,
    packets: packets.map((p, i) => ({
      family: p.family, src: formatIp(p.family, p.src), dst: formatIp(p.family, p.dst), proto: p.proto,
      sport: p.sport, dport: p.dport, icmpType: p.icmpType, icmpCode: p.icmpCode, in: p.in, state: p.state, seed: rs.seed + i,
    })),
  };
  const r = await run('python3', [DRIVER, 'run'], JSON.stringify(job));
  if (r.status !== 0) throw new Error(`netns_driver.py run failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as DriverResult;
}

export interface KernelAnswer {
  rule?: GenRule;
  verdict?: 'accept' | 'drop' | 'reject';
  /** 0-based line of the deciding rule or of the INPUT policy. */
  line?: number;
  /** Rules whose counters moved, once per packet counted (a chain jumped to twice runs twice). */
  hits: GenRule[];
  /** Set when the counters do not tell one story (harness trouble, not a verdict). */
  error?: string;
}

export function kernelAnswer(rs: Ruleset, r: NonNullable<DriverResult['results']>[number]): KernelAnswer {
  const hits: GenRule[] = [];
  for (const [chain, index, times] of r.hits) {
    const rule = rs.byChain.get(chain)?.[index];
    if (!rule) return { hits, error: `a counter moved on ${chain} #${index}, which the ruleset does not have` };
    for (let n = 0; n < times; n++) hits.push(rule);
  }
  const terminal = hits.filter((h) => TERMINAL.has(h.target));
  const policy = (r.policies.INPUT ?? 0) > 0;
  if (!r.clean) return { hits, error: `counters not clean after retries: ${JSON.stringify(r)}` };
  if (terminal.length > 1) return { hits, error: `several terminal rules counted: ${terminal.map((t) => t.line + 1).join(', ')}` };
  if (terminal.length === 1 && policy) return { hits, error: `a terminal rule and the policy both counted` };
  if (terminal.length === 1) {
    const rule = terminal[0];
    return { rule, hits, line: rule.line, verdict: rule.target === 'ACCEPT' ? 'accept' : rule.target === 'DROP' ? 'drop' : 'reject' };
  }
  if (!policy) return { hits, error: 'neither a terminal rule nor the policy counted the packet (it never reached INPUT?)' };
  return { hits, line: rs.policyLine, verdict: rs.policy === 'ACCEPT' ? 'accept' : 'drop' };
}

// The kernel as the oracle for what loads: as root, `unshare -n` gives a private network namespace
// where iptables-restore loads the ruleset for real (with the nf_tables backend `--test` does not
// check that jump targets exist, a real load does). Elsewhere the check is skipped.
import { spawnSync } from 'node:child_process';

let available: boolean | undefined;

export function canLoadIptables(): boolean {
  if (available !== undefined) return available;
  if (process.getuid?.() !== 0) return (available = false);
  const r = spawnSync('unshare', ['-n', 'iptables-restore'], { input: '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', encoding: 'utf8' });
  return (available = r.status === 0);
}

/** undefined when it loads; otherwise iptables-restore's complaint. */
export function iptablesRestoreError(text: string, v6 = false): string | undefined {
  const r = spawnSync('unshare', ['-n', v6 ? 'ip6tables-restore' : 'iptables-restore'], { input: text, encoding: 'utf8' });
  return r.status === 0 ? undefined : (r.stderr || `exit ${r.status}`).trim();
}

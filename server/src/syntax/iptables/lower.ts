// Lowers the iptables syntax tree into the normalized policy of the model layer: one Table per
// `*table` block that iptables-restore keeps (a table restored twice keeps only its last block),
// one Chain per chain as it stands at COMMIT, one Rule per rule in final order (after -I, -D,
// -F, re-declarations). Rules carry the meaning computed while parsing (lower-rule.ts).
import type { Finding } from '../../model/finding';
import type { Chain, Entry, Family, Policy, Rule, Table } from '../../model/policy';
import { BUILTIN_CHAINS, LineCache, parseIptables } from './parser';
import type { IptablesFile, TableNode } from './tree';
import { tokenRange } from './tree';

export { toAddrRange } from './lower-rule';

export function lowerIptables(file: IptablesFile): { policy: Policy; findings: Finding[] } {
  const findings: Finding[] = [];
  const tables: Table[] = [];
  let filter: Table | undefined;
  for (const t of file.tables) {
    if (t.replacedBy !== undefined || !BUILTIN_CHAINS[t.name]) continue;
    const table = lowerTable(t, file.family);
    tables.push(table);
    if (t.name === 'filter') filter = table;
  }
  const entries: Entry[] = [];
  if (filter) {
    for (const name of ['INPUT', 'FORWARD', 'OUTPUT']) {
      const chain = filter.chains.get(name);
      if (chain) entries.push({ name, stages: [chain], families: [file.family] });
    }
  }
  const policy: Policy = { format: 'iptables', families: [file.family], tables, entries };
  if (filter) policy.defaultEntry = 'INPUT';
  return { policy, findings };
}

/** Parses and lowers in one go; findings of both steps. */
export function loadIptables(text: string, family?: Family, cache?: LineCache): { file: IptablesFile; policy: Policy; findings: Finding[] } {
  const file = parseIptables(text, family, cache);
  const lowered = lowerIptables(file);
  const findings = lowered.findings.length > 0 ? file.findings.concat(lowered.findings) : file.findings.slice();
  return { file, policy: lowered.policy, findings };
}

function lowerTable(t: TableNode, family: Family): Table {
  const chains = new Map<string, Chain>();
  for (const c of t.chains.values()) {
    const chain: Chain = {
      name: c.name,
      table: t.name,
      range: c.declToken && c.declLine !== undefined ? tokenRange(c.declLine, c.declToken) : t.nameRange,
      rules: [],
      family,
    };
    if (c.builtin) {
      chain.policy = c.policy === 'DROP' ? 'drop' : 'accept';
      if (c.policyToken && c.policyLine !== undefined) chain.policyRange = tokenRange(c.policyLine, c.policyToken);
    }
    const rules = c.rules;
    for (let i = 0; i < rules.length; i++) {
      const node = rules[i];
      const m = node.meaning;
      if (!m) continue;
      const rule: Rule = { index: chain.rules.length, chain: c.name, table: t.name, conditions: m.conditions, action: m.action, range: node.range, text: node.text };
      if (m.comment !== undefined) rule.comment = m.comment;
      if (m.key !== undefined) rule.key = m.key;
      chain.rules.push(rule);
    }
    chains.set(c.name, chain);
  }
  return { name: t.name, family: family === 4 ? 'ip' : 'ip6', chains, range: t.range };
}

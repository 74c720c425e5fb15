// nftables into the model: `loadNftables(text)` parses, evaluates and lowers a ruleset file.
//
// Tables are named `family name` ("inet filter") so that tables of two families never collide.
// Every chain becomes a model Chain; base chains carry hook, priority, policy (accept when the
// file gives none) and `family` (4 for ip, 6 for ip6, 'both' for inet and the others).
//
// Entries: one per hook (prerouting, input, forward, output, postrouting) that has base chains
// of type filter or route in ip/ip6/inet tables; its stages are all those chains across tables,
// by priority, ties in file order. A stage's `family` tells the engine which packets it sees: an
// ip table's base chain never sees IPv6 packets (its policy does not apply to them), which the
// engine honours per stage. Rules of inet (and bridge/netdev) tables carry explicit family
// conditions where a match implies one (`ip saddr` ⇒ IPv4); rules of ip/ip6 tables do not need
// them. nat chains are kept as chains but are no stage: they see only the first packet of a
// connection and are not a filtering decision. bridge, netdev and arp chains are lowered but
// have no entry (they sit on other paths than the IP hooks).
//
// Named sets: a set with `flags constant` stands for exactly its elements; a set that the
// ruleset fills itself (`flags dynamic`/`timeout`, `add @set`, `update @set`) is opaque; any
// other named set may gain elements at run time (fail2ban, scripts), so a match on it certainly
// holds for its elements and may hold for anything else (the file's elements are what it must
// match, not all it may match). A set declared empty is treated as filled at run time: opaque.
import type { Chain, Entry, Family, Policy, Range, Rule, Table } from '../../model/policy';
import { Finding, finding } from '../../model/finding';
import type { NftFile, Span } from './ast';
import type { Token } from './lexer';
import { Evaluator } from './evaluate';
import { parseNftables, ParseOptions, ParseResult } from './parser';
import { familiesOf, TableState } from './state';
import type { LowerCache } from './lower-cache';

export const HOOK_ORDER = ['prerouting', 'input', 'forward', 'output', 'postrouting'];

export interface NftablesLoad {
  file: NftFile;
  policy: Policy;
  findings: Finding[];
  /** Paths of the included files that were read. */
  includes: string[];
  /** The range of a node or token of `file` (tokens keep offsets only; outline and folding need this). */
  rangeOf: (node: Span | Token) => Range;
}

/** `cache`: the language server's, kept from the document's previous version (see lower-cache.ts). */
export function loadNftables(text: string, opts: ParseOptions = {}, cache?: LowerCache): NftablesLoad {
  const parsed = parseNftables(text, opts, cache);
  const { policy, findings } = lowerNftables(parsed, cache);
  const cur = parsed.cursor;
  return { file: parsed.file, policy, findings, includes: parsed.sources.slice(1).map((s) => s.path ?? ''), rangeOf: (n) => cur.rangeOf(n) };
}

export function lowerNftables(parsed: ParseResult, cache?: LowerCache): { policy: Policy; findings: Finding[] } {
  const tables = new Evaluator(parsed.cursor, cache).run(parsed.file);
  const policy = buildPolicy(tables);
  return { policy, findings: toFindings(parsed) };
}

function buildPolicy(states: TableState[]): Policy {
  const tables: Table[] = [];
  const families = new Set<Family>();
  const stagesByHook = new Map<string, { chain: Chain; order: number; priority: number }[]>();
  for (const t of states) {
    const chains = new Map<string, Chain>();
    const fam = t.family === 'ip' ? 4 : t.family === 'ip6' ? 6 : 'both';
    if (t.family === 'ip' || t.family === 'ip6' || t.family === 'inet') for (const f of familiesOf(t.family)) families.add(f);
    for (const c of t.chains.values()) {
      const rules: Rule[] = [];
      for (const r of c.rules) {
        const keys = r.keys;
        for (let i = 0; i < r.variants.length; i++) {
          const v = r.variants[i];
          rules.push({ index: rules.length, chain: c.name, table: t.key, conditions: v.conditions, action: v.action, range: r.range, text: r.text, comment: r.comment, key: keys?.[i] });
        }
      }
      const chain: Chain = { name: c.name, table: t.key, range: c.range, rules, family: fam };
      if (c.hook && c.hookName) {
        chain.hook = c.hookName;
        chain.priority = c.priority;
        chain.policy = c.policy ?? 'accept';
        chain.policyRange = c.policyRange ?? c.hookRange;
        const isStage = (c.type === 'filter' || c.type === 'route') && (t.family === 'ip' || t.family === 'ip6' || t.family === 'inet') && HOOK_ORDER.includes(c.hookName);
        if (isStage) {
          const list = stagesByHook.get(c.hookName) ?? [];
          list.push({ chain, order: c.order, priority: c.priority ?? 0 });
          stagesByHook.set(c.hookName, list);
        }
      }
      chains.set(c.name, chain);
    }
    tables.push({ name: t.key, family: t.family, chains, range: t.range });
  }
  const entries: Entry[] = [];
  for (const hook of HOOK_ORDER) {
    const list = stagesByHook.get(hook);
    if (!list) continue;
    list.sort((a, b) => a.priority - b.priority || a.order - b.order);
    const fams = new Set<Family>();
    for (const s of list) {
      if (s.chain.family === 4 || s.chain.family === 6) fams.add(s.chain.family);
      else {
        fams.add(4);
        fams.add(6);
      }
    }
    entries.push({ name: hook, stages: list.map((s) => s.chain), families: [...fams].sort() });
  }
  const policyFamilies: Family[] = families.size ? [...families].sort() : [4, 6];
  return {
    format: 'nftables',
    families: policyFamilies,
    tables,
    entries,
    defaultEntry: entries.some((e) => e.name === 'input') ? 'input' : entries[0]?.name,
  };
}

function toFindings(parsed: ParseResult): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const p of parsed.problems) {
    const key = `${p.code}|${p.message}|${p.range.start.line}:${p.range.start.character}-${p.range.end.line}:${p.range.end.character}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(finding(p.code, p.message, p.range, p.data ? { data: p.data } : {}));
  }
  return out;
}

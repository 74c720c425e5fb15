// Hovers: what a CIDR gets through its chain, what reaches a rule, what a port or protocol is, and
// what a chain lets in. Pure: an analysis, the document's text and a position in, Markdown out.
import type { Hover, Position } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Chain, Entry, Rule } from '../model/policy';
import { reachableChains } from '../analysis/anomalies';
import { explainWithin, describeCapped, HoverPart, reachingWithin } from './explain-budget';
import { boxesIntersect } from '../packets/boxes';
import { formatAddr } from '../model/address';
import { protocolName, protocolNumber, serviceName } from '../packets/services';
import type { DocumentAnalysis } from './document';
import { parseCidr } from './query';
import { targetAt, Target } from './locate';
import { entriesFor } from './entries';
import { memo } from './memo';
import { cell, code, groupDigits, lineLink, md } from './markdown';
import { lineText } from './text';
import { findingsOfRule } from './rule-findings';

/** Rows of a CIDR table before the rest is counted: a hover is a glance, not a report. */
const MAX_ROWS = 10;
/** Entries a hover explains a chain from (a user chain jumped to from many hooks). */
const MAX_ENTRIES = 2;
/** Rules reachable from a chain up to which "what it lets in" is worked out in full. */
const SUMMARY_RULES = 1_000;
/** Time one walk of a hover may take (a hover has a few): p95 under 50 ms with room to spare. */
const WALK_MS = 20;

export function hover(doc: DocumentAnalysis, text: TextDocument, pos: Position): Hover | null {
  const target = targetAt(doc, (l) => lineText(text, l), pos);
  if (!target) return null;
  const value = hoverMarkdown(doc, text.uri, target);
  if (!value) return null;
  const range = target.kind === 'rule' ? target.rule.range : target.word.range;
  return { contents: { kind: 'markdown', value }, range };
}

export function hoverMarkdown(doc: DocumentAnalysis, uri: string, t: Target): string | undefined {
  switch (t.kind) {
    case 'address':
      return addressHover(doc, uri, t.word.text, t.as, t.rule);
    case 'port':
      return portHover(t.word.text, t.rule, t.cond.field);
    case 'proto':
      return protoHover(t.word.text);
    case 'chain-ref': {
      const c = doc.analysis.resolve(t.table, t.name);
      return c ? chainHover(doc, uri, c) : `**${md(t.name)}**: no chain of that name in table ${md(t.table)}`;
    }
    case 'chain-decl':
    case 'policy':
      return chainHover(doc, uri, t.chain);
    case 'rule':
      return ruleHover(doc, uri, t.rule);
  }
}

// --- CIDR ---------------------------------------------------------------------------------------

export function addressHover(doc: DocumentAnalysis, uri: string, cidrText: string, as: 'src' | 'dst', rule: Rule | undefined): string | undefined {
  const c = parseCidr(cidrText);
  if (!c) return undefined;
  const network = `${formatAddr(c.family, c.first)}/${c.len}`;
  const size = groupDigits((c.last - c.first + 1n).toString());
  const out: string[] = [];
  out.push(`**${md(network)}** as ${as === 'src' ? 'source' : 'destination'}: ${formatAddr(c.family, c.first)} – ${formatAddr(c.family, c.last)} (${size} address${size === '1' ? '' : 'es'})`);
  if (c.hostBits) out.push(`⚠️ **Host bits set**: ${code(cidrText)} has bits set past /${c.len}; iptables and nft use the network ${code(network)}.`);
  if (!doc.policy.families.includes(c.family)) {
    out.push(`This file filters IPv${doc.policy.families.join('/IPv')} only.`);
    return out.join('\n\n');
  }
  const chain = rule ? doc.analysis.resolve(rule.table, rule.chain) : undefined;
  const entries = entriesFor(doc, chain);
  for (const entry of entries.slice(0, MAX_ENTRIES)) {
    // The rendered table is what is kept: an explanation's packet sets are large, its text is not.
    const nameEntry = entries.length > 1 || (chain !== undefined && !entry.stages.includes(chain));
    out.push(memo(doc, `explain|${entry.name}|${as}|${c.family}|${c.first}|${c.last}|${nameEntry}`, () => {
      const start = doc.analysis.compiled.space.addresses(as, [{ family: c.family, first: c.first, last: c.last }]);
      const e = explainWithin(doc, entry, start, as, WALK_MS);
      return e
        ? explanationTable(uri, entry, e, nameEntry)
        : `${nameEntry ? `Through **${md(entry.name)}**: ` : ''}this range meets too many rules to follow within a hover; use **Firewall Lens: Check a packet…** or \`fwlens explain --cidr ${network}\`.`;
    }));
  }
  if (entries.length > MAX_ENTRIES) out.push(`… and ${entries.length - MAX_ENTRIES} more entr${entries.length - MAX_ENTRIES > 1 ? 'ies' : 'y'}.`);
  return out.join('\n\n');
}

function explanationTable(uri: string, entry: Entry, e: { parts: HoverPart[]; complete: boolean }, nameEntry: boolean): string {
  const rows = ['| Traffic | Verdict | Decided by |', '| --- | --- | --- |'];
  for (const p of e.parts.slice(0, MAX_ROWS)) {
    const verdict = p.verdict === 'depends' ? 'depends' : `**${p.verdict.toUpperCase()}**`;
    let by: string;
    if (p.rule) by = `${lineLink(uri, p.rule.range.start.line)}${p.verdict === 'depends' ? ' (a match the analysis cannot see)' : ''}`;
    else if (p.policyChain) by = `${cell(p.policyChain.name)} policy (${lineLink(uri, (p.policyChain.policyRange ?? p.policyChain.range).start.line)})`;
    else by = 'no base chain';
    rows.push(`| ${cell(p.traffic)} | ${verdict} | ${by} |`);
  }
  if (e.parts.length > MAX_ROWS) rows.push(`| … ${e.parts.length - MAX_ROWS} more | | |`);
  const head = nameEntry ? `Through **${md(entry.name)}**:\n\n` : '';
  const tail = e.complete ? '' : '\n\n_The ruleset is too large to follow every part; the rest is not shown._';
  return head + rows.join('\n') + tail;
}

// --- rule ---------------------------------------------------------------------------------------

export function ruleHover(doc: DocumentAnalysis, uri: string, rule: Rule): string {
  const sets = doc.analysis.compiled.sets.get(rule);
  const chain = doc.analysis.resolve(rule.table, rule.chain);
  const out: string[] = [`**Rule** in ${md(rule.chain)} (table ${md(rule.table)}), ${lineLink(uri, rule.range.start.line)}`];
  const findings = findingsOfRule(doc, rule);
  const hidden = findings.find((f) => f.code === 'shadowed-rule' || f.code === 'redundant-rule');
  if (hidden) {
    const by = ((hidden.data?.by as number[] | undefined) ?? []).map((i) => chain?.rules[i]).filter((r): r is Rule => !!r);
    out.push(`${hidden.code === 'shadowed-rule' ? '⚠️ **Shadowed**' : '**Redundant**'}: no packet reaches it; ${by.slice(0, 5).map((r) => `${lineLink(uri, r.range.start.line)} ${code(shorten(r.text))}`).join(', ')}${by.length > 5 ? ` and ${by.length - 5} more` : ''} decide${by.length === 1 ? 's' : ''} all of it first.`);
  } else if (sets && sets.may.length === 0) {
    out.push('This rule matches no packet at all.');
  } else if (sets) {
    for (const entry of entriesFor(doc, chain).slice(0, MAX_ENTRIES)) {
      const reach = memo(doc, `reach|${entry.name}|${rule.table}|${rule.chain}|${rule.index}`, () => {
        const set = reachingWithin(doc, entry, rule, WALK_MS);
        if (!set) return `What reaches it from ${md(entry.name)} takes too long to work out within a hover.`;
        if (set.length) return `Traffic that still reaches it from ${md(entry.name)}: ${md(describeCapped(doc, set, undefined, 3))}`;
        // Not shadowed, yet nothing certainly arrives: earlier matches the analysis cannot see decide.
        const unsure = chain ? uncertainBefore(doc, chain, rule) : [];
        return unsure.length
          ? `From ${md(entry.name)}, whether traffic reaches it depends on ${unsure.map((r) => lineLink(uri, r.range.start.line)).join(', ')} (matches the analysis cannot see into).`
          : `No traffic reaches it from ${md(entry.name)}.`;
      });
      out.push(reach);
    }
  }
  const catchAll = findings.find((f) => f.code === 'catch-all-drop');
  if (catchAll) out.push(`⛔ ${md(catchAll.message)}`);
  if (sets && sets.opaque.length) out.push(`The analysis cannot see into ${sets.opaque.map((o) => code(o)).join(', ')}: it assumes they may or may not match.`);
  return out.join('\n\n');
}

/** Earlier rules of the chain with an opaque match that overlaps this rule's (nearest first, 3 at most). */
function uncertainBefore(doc: DocumentAnalysis, chain: Chain, rule: Rule): Rule[] {
  const sets = doc.analysis.compiled.sets;
  const mine = sets.get(rule)?.may ?? [];
  const out: Rule[] = [];
  for (let i = rule.index - 1; i >= 0 && out.length < 3; i--) {
    const s = sets.get(chain.rules[i]);
    if (s && !s.exact && s.may.some((a) => mine.some((b) => boxesIntersect(a, b)))) out.push(chain.rules[i]);
  }
  return out.reverse();
}

function shorten(text: string): string {
  return text.length > 60 ? text.slice(0, 57) + '…' : text;
}

// --- ports and protocols ------------------------------------------------------------------------

export function portHover(word: string, rule: Rule, field: 'sport' | 'dport'): string | undefined {
  const proto = rule.conditions.find((c) => c.field === 'proto');
  const protoText = proto && proto.field === 'proto' && proto.protos.length === 1 ? protocolName(proto.protos[0]) : undefined;
  const which = field === 'dport' ? 'destination port' : 'source port';
  const m = /^(\d{1,5})(?:[:-](\d{1,5}))?$/.exec(word);
  if (!m) {
    // A service name (`ssh`) as iptables accepts it: say which port it stands for, when we know it.
    return `**${md(word)}**: ${which} by service name`;
  }
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo === hi) {
    const name = serviceName(lo);
    return `**${protoText ? `${protoText}/` : ''}${lo}** (${which}): ${name ? md(name) : 'no well-known service'}`;
  }
  const known: string[] = [];
  for (let p = lo; p <= hi && known.length < 6; p++) {
    const name = serviceName(p);
    if (name) known.push(`${p} ${name}`);
  }
  return `**${protoText ? `${protoText}/` : ''}${lo}–${hi}** (${which}s, ${hi - lo + 1} ports)${known.length ? `: includes ${md(known.join(', '))}` : ''}`;
}

export function protoHover(word: string): string | undefined {
  const n = /^\d+$/.test(word) ? Number(word) : protocolNumber(word);
  if (n === undefined) return word === 'all' ? '**all**: every IP protocol' : undefined;
  const name = protocolName(n);
  return `**${md(name)}**: IP protocol number ${n}`;
}

// --- chains -------------------------------------------------------------------------------------

export function chainHover(doc: DocumentAnalysis, uri: string, chain: Chain): string {
  const out: string[] = [];
  const head = `**Chain ${md(chain.name)}** (table ${md(chain.table)}${chain.hook ? `, hook ${md(chain.hook)}${chain.priority !== undefined ? ` priority ${chain.priority}` : ''}` : ''}), ${chain.rules.length} rule${chain.rules.length === 1 ? '' : 's'}`;
  out.push(head);
  if (chain.policy) out.push(`Default policy: **${chain.policy.toUpperCase()}**: what no rule decides is ${chain.policy === 'accept' ? 'accepted' : 'dropped'}.`);
  else {
    const callers = jumpsTo(doc, chain);
    out.push(`User chain: packets that reach its end return to the rule after the jump.${callers.length ? ` Jumped to from ${callers.slice(0, 5).map((r) => lineLink(uri, r.range.start.line)).join(', ')}${callers.length > 5 ? ` and ${callers.length - 5} more` : ''}.` : ' Nothing jumps to it.'}`);
  }
  const entries = entriesFor(doc, chain).filter((e) => e.stages.includes(chain) || !chain.policy);
  const entry = entries.find((e) => e.stages.includes(chain)) ?? entries[0];
  if (entry) {
    const summary = memo(doc, `lets-in|${entry.name}|${entry.stages.includes(chain) ? '' : chain.name}`, () => {
      const stages = entry.stages.includes(chain) ? entry : { ...entry, stages: [chain] };
      const chains = reachableChains(stages, doc.analysis.resolve);
      const ruleCount = chains.reduce((n, c) => n + c.rules.length, 0);
      // The whole space through thousands of rules fragments into too many pieces for a hover:
      // then say how many rules can accept, which is cheap and still true.
      const cheap = () => ({ text: '', complete: false, depends: false, accepting: acceptingRules(doc, chains) });
      if (ruleCount > SUMMARY_RULES) return cheap();
      const e = explainWithin(doc, stages, doc.analysis.compiled.space.all(), undefined, WALK_MS);
      if (!e) return cheap();
      const { parts, complete } = e;
      // A user chain's own end is no verdict: what falls off it returns to the caller.
      const accepted = parts.filter((p) => p.verdict === 'accept' && (p.rule || chain.policy));
      const text = accepted.slice(0, 3).map((p) => p.traffic).join('; ') + (accepted.length > 3 ? `; and what ${accepted.length - 3} more rules accept` : '');
      return { text, complete, depends: parts.some((p) => p.verdict === 'depends'), accepting: -1 };
    });
    const via = entry.stages.includes(chain) ? (entry.name === chain.name ? '' : ` (through ${md(entry.name)})`) : chain.policy ? '' : ' (of what is jumped to it)';
    if (summary.accepting >= 0) out.push(`Lets in${via} what its ${summary.accepting} reachable ACCEPT rule${summary.accepting === 1 ? '' : 's'} match${chain.policy ? `; the ${chain.policy.toUpperCase()} policy takes the rest` : ''} (too many rules to describe the traffic in a hover; use \`fwlens explain\`).`);
    else out.push(summary.text ? `Lets in${via}: ${md(summary.text)}${summary.depends ? ', and more that depends on matches the analysis cannot see' : ''}${summary.complete ? '' : ' (partial: the ruleset is too large to follow completely)'}.`
      : `Lets nothing in${via}${summary.depends ? ' for certain (some traffic depends on matches the analysis cannot see)' : ''}.`);
  }
  return out.join('\n\n');
}

/** Rules that accept and that some packet can reach (not shadowed or redundant). */
function acceptingRules(doc: DocumentAnalysis, chains: readonly Chain[]): number {
  let n = 0;
  for (const c of chains) {
    const unreachable = doc.analysis.facts.get(c)?.unreachable;
    for (const r of c.rules) if (r.action.kind === 'verdict' && r.action.verdict === 'accept' && !unreachable?.has(r)) n++;
  }
  return n;
}

function jumpsTo(doc: DocumentAnalysis, chain: Chain): Rule[] {
  const out: Rule[] = [];
  for (const t of doc.policy.tables) for (const c of t.chains.values()) for (const r of c.rules) {
    if ((r.action.kind === 'jump' || r.action.kind === 'goto') && doc.analysis.resolve(r.table, r.action.chain) === chain) out.push(r);
  }
  return out;
}

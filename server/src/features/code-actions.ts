// Quick fixes for the findings, and a `source.fixAll.fwlens` for the ones that are always safe.
// This module decides what to change; printer.ts says how each format writes it, line-edits.ts
// keeps every edit to the lines involved.
import { CodeAction, CodeActionKind, Diagnostic, Range, SnippetTextEdit, TextEdit, WorkspaceEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Chain, Rule } from '../model/policy';
import { Box, subtract } from '../packets/boxes';
import { D, PacketSpace } from '../packets/space';
import type { DocumentAnalysis } from './document';
import { parseCidr } from './query';
import { formatAddr } from '../model/address';
import { applyLineChange, LineChange, printerFor, RulePrinter } from './printer';
import { deleteLines, insertBefore, moveLines, replaceLine } from './line-edits';
import { eolOf, indentOf, lineText } from './text';
import { ruleOfData } from './rule-findings';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import { type NftFile, tableKey } from '../syntax/nftables/ast';

export const FIX_ALL_KIND = 'source.fixAll.fwlens';

export interface CodeActionOptions {
  /** `firewallLens.trustedSources`: what catch-all and world-open rules are narrowed to. */
  trustedSources: readonly string[];
  /** The client applies SnippetTextEdit (LSP 3.18): a placeholder to type the range into. */
  snippetEdits: boolean;
  /** The client takes `documentChanges` (versioned edits, rejected when the text moved on). */
  documentChanges: boolean;
}

type Edit = TextEdit | SnippetTextEdit;

/** A documentation range (RFC 5737) as the placeholder's default: it parses, and means nothing. */
const PLACEHOLDER = '192.0.2.0/24';
/** The placeholder as a snippet's first tab stop, selected for the user to type over. */
const PLACEHOLDER_STOP = '${1:' + PLACEHOLDER + '}';

export function codeActions(doc: DocumentAnalysis, text: TextDocument, diagnostics: readonly Diagnostic[], only: readonly string[] | undefined, opts: CodeActionOptions): CodeAction[] {
  const out: CodeAction[] = [];
  const ctx: Ctx = { doc, text, opts, printer: printerFor(doc.language) };
  if (wants(only, CodeActionKind.QuickFix)) {
    for (const d of diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) continue;
      for (const a of fixesFor(ctx, d)) out.push({ ...a, kind: CodeActionKind.QuickFix, diagnostics: [d] });
    }
  }
  // Only on request (Source Action…, or on save): it spans the whole file, not the cursor.
  if (only?.length && wants(only, FIX_ALL_KIND)) {
    const all = fixAll(ctx);
    if (all) out.push(all);
  }
  return out;
}

/** Whether an action of `kind` was asked for: `only` lists kinds, a kind includes its sub-kinds. */
export function wants(only: readonly string[] | undefined, kind: string): boolean {
  if (!only || only.length === 0) return true;
  return only.some((o) => kind === o || kind.startsWith(o + '.'));
}

interface Ctx {
  doc: DocumentAnalysis;
  text: TextDocument;
  opts: CodeActionOptions;
  printer: RulePrinter | undefined;
}

interface Fix { title: string; edit: WorkspaceEdit; isPreferred?: boolean }

function fixesFor(ctx: Ctx, d: Diagnostic): Fix[] {
  const rule = ruleOfData(ctx.doc, d.data);
  // The diagnostic may come from an older version than our analysis: act only when it still fits.
  if (rule && (d.range.start.line < rule.range.start.line || d.range.start.line > rule.range.end.line)) return [];
  switch (d.code) {
    case 'catch-all-drop':
      return rule ? catchAllFixes(ctx, rule, d) : [];
    case 'shadowed-rule':
    case 'redundant-rule':
      return rule ? hiddenRuleFixes(ctx, rule, d) : [];
    case 'cidr-host-bits':
      return hostBitsFixes(ctx, d);
    case 'open-to-world':
      return rule ? openToWorldFixes(ctx, rule) : [];
    case 'lockout':
      return lockoutFixes(ctx, d);
    case 'undefined-reference':
      return undefinedReferenceFixes(ctx, d);
    default:
      return [];
  }
}

// --- catch-all-drop ----------------------------------------------------------------------------

function catchAllFixes(ctx: Ctx, rule: Rule, d: Diagnostic): Fix[] {
  const { doc, text, printer } = ctx;
  const chain = doc.analysis.resolve(rule.table, rule.chain);
  if (!chain) return [];
  const fixes: Fix[] = [];
  const [first, last] = [rule.range.start.line, rule.range.end.line];
  const narrowed = narrowFixes(ctx, rule, 'catch-all');
  fixes.push(...narrowed);

  const hides = numbers((d.data as Record<string, unknown> | undefined)?.hides).map((i) => chain.rules[i]).filter((r): r is Rule => !!r);
  if (hides.length) {
    const lastHidden = hides.reduce((a, b) => (b.range.end.line > a.range.end.line ? b : a));
    fixes.push({
      title: `Move this rule after line ${lastHidden.range.end.line + 1} (the last allow rule it hides)`,
      edit: workspaceEdit(ctx, moveLines(text, first, last, { after: lastHidden.range.end.line })),
      isPreferred: narrowed.length === 0,
    });
  }

  if (printer) {
    const indent = indentOf(lineText(text, first));
    const lines: string[] = [];
    const missing: string[] = [];
    if (!acceptedBefore(doc, chain, rule, 'established')) {
      lines.push(printer.acceptEstablished(chain.name, indent));
      missing.push('an ESTABLISHED,RELATED accept');
    }
    if (!acceptedBefore(doc, chain, rule, 'loopback')) {
      lines.push(printer.acceptLoopback(chain.name, indent));
      missing.push('a loopback accept');
    }
    if (lines.length) fixes.push({ title: `Insert ${missing.join(' and ')} before this rule`, edit: workspaceEdit(ctx, [insertBefore(text, first, lines)]) });

    const verdict = rule.action.kind === 'verdict' ? rule.action.verdict : 'drop';
    const policy = printer.policyFor(verdict);
    const setPolicy = chain.policy ? printer.setPolicy(text, chain, policy) : undefined;
    if (setPolicy) {
      fixes.push({
        title: `Make ${policy.toUpperCase()} the default policy of ${chain.name} and delete this rule`,
        edit: workspaceEdit(ctx, [...(chain.policy === policy ? [] : [setPolicy]), deleteLines(text, first, last)]),
      });
    }
  }
  return fixes;
}

/** An earlier accept in the chain (before `rule`, or anywhere) takes all established (or all loopback) traffic already. */
function acceptedBefore(doc: DocumentAnalysis, chain: Chain, rule: Rule | undefined, what: 'established' | 'loopback'): boolean {
  const space = doc.analysis.compiled.space;
  const set = what === 'established' ? space.states(['ESTABLISHED']) : loopbackSet(space);
  return chain.rules.slice(0, rule ? rule.index : chain.rules.length).some((r) => r.action.kind === 'verdict' && r.action.verdict === 'accept'
    && subtract(set, doc.analysis.compiled.sets.get(r)?.must ?? []).length === 0);
}

// --- lockout ---------------------------------------------------------------------------------------

/**
 * No way back in. Established replies: accept them (and loopback) first in the chain that denies.
 * Remote administration: accept its ports from the trusted sources (or a range to type in) just
 * before the deny.
 */
function lockoutFixes(ctx: Ctx, d: Diagnostic): Fix[] {
  const { doc, text, printer } = ctx;
  const data = (d.data ?? {}) as Record<string, unknown>;
  if (!printer || typeof data.table !== 'string' || typeof data.chain !== 'string') return [];
  const chain = doc.analysis.resolve(data.table, data.chain);
  if (!chain) return [];
  const deny = typeof data.denyRule === 'number' ? chain.rules[data.denyRule] : undefined;
  // The diagnostic may come from an older version than our analysis: act only when it still fits.
  if (deny ? deny.range.start.line !== d.range.start.line : (chain.policyRange ?? chain.range).start.line !== d.range.start.line) return [];
  const first = chain.rules[0];
  const slot = first ? { before: first.range.start.line, indent: indentOf(lineText(text, first.range.start.line)) } : printer.firstRuleSlot(text, chain);
  if (!slot) return [];

  if (data.kind === 'established') {
    const lines = [printer.acceptEstablished(chain.name, slot.indent)];
    if (!acceptedBefore(doc, chain, undefined, 'loopback')) lines.push(printer.acceptLoopback(chain.name, slot.indent));
    const what = lines.length > 1 ? 'an ESTABLISHED,RELATED accept and a loopback accept' : 'an ESTABLISHED,RELATED accept';
    return [{ title: `Insert ${what} at the top of ${chain.name}`, edit: workspaceEdit(ctx, [insertBefore(text, slot.before, lines)]), isPreferred: true }];
  }
  if (data.kind !== 'admin') return [];
  const ports = numbers(data.ports).slice(0, 3);
  if (!ports.length) return [];
  // Just before the deny rule; with a deny policy, after the chain's last rule.
  const last = chain.rules[chain.rules.length - 1];
  const at = deny ? { before: deny.range.start.line, indent: indentOf(lineText(text, deny.range.start.line)) } : last ? { before: last.range.end.line + 1, indent: indentOf(lineText(text, last.range.start.line)) } : slot;
  const trusted = usableCidrs(doc, ctx.opts.trustedSources).slice(0, 3);
  const portNames = ports.map((p) => `tcp/${p}`).join(', ');
  if (trusted.length) {
    const lines = trusted.flatMap((cidr) => ports.map((p) => printer.acceptTcpFrom(chain.name, at.indent, p, cidr)));
    return [{ title: `Allow ${portNames} from ${trusted.join(', ')} (firewallLens.trustedSources) before the deny`, edit: workspaceEdit(ctx, [insertBefore(text, at.before, lines)]), isPreferred: true }];
  }
  if (!ctx.opts.snippetEdits) return [];
  // A range to type in: the snippet selects the placeholder (one range for all the ports).
  const lines = ports.map((p, i) => printer.acceptTcpFrom(chain.name, at.indent, p, PLACEHOLDER).replace(PLACEHOLDER, i === 0 ? PLACEHOLDER_STOP : '$1'));
  const eol = eolOf(text);
  const snippet: SnippetTextEdit = { range: { start: { line: at.before, character: 0 }, end: { line: at.before, character: 0 } }, snippet: { kind: 'snippet', value: lines.map((l) => l + eol).join('') } };
  return [{ title: `Allow ${portNames} from a source range… before the deny (or set firewallLens.trustedSources)`, edit: workspaceEdit(ctx, [snippet]) }];
}

// --- undefined references --------------------------------------------------------------------------

/** A jump to a missing chain: the name it was probably meant to be, or the chain declared. */
function undefinedReferenceFixes(ctx: Ctx, d: Diagnostic): Fix[] {
  const { doc, text, printer } = ctx;
  const data = (d.data ?? {}) as Record<string, unknown>;
  if ((data.missing !== 'chain' && data.missing !== 'set') || typeof data.name !== 'string' || typeof data.table !== 'string') return [];
  const token = text.getText(d.range);
  const prefix = data.missing === 'set' ? '@' : '';
  // The diagnostic may come from an older version: act only when its token is still the name.
  if (token !== prefix + data.name && token !== `"${data.name}"`) return [];
  const fixes: Fix[] = [];
  const table = doc.policy.tables.find((t) => t.name === data.table);
  const names = data.missing === 'chain'
    ? [...(table?.chains.values() ?? [])].filter((c) => !c.hook && !c.name.includes('#')).map((c) => c.name)
    : setNames(doc, data.table);
  for (const name of closestNames(data.name, names)) {
    fixes.push({ title: `Change to ${prefix}${name}`, edit: workspaceEdit(ctx, [{ range: d.range, newText: prefix + name }]), isPreferred: fixes.length === 0 });
  }
  if (data.missing === 'chain' && printer) {
    const from = typeof data.from === 'string' ? doc.analysis.resolve(data.table, data.from) : undefined;
    const declare = printer.declareChain(text, data.name, from, d.range.start.line);
    if (declare) fixes.push({ title: `Declare an empty chain ${data.name} in table ${data.table}`, edit: workspaceEdit(ctx, [declare]) });
  }
  return fixes;
}

/** The named sets of an nftables table, from its syntax tree (the model keeps none). */
function setNames(doc: DocumentAnalysis, table: string): string[] {
  if (doc.language !== 'nftables') return [];
  const out: string[] = [];
  for (const cmd of (doc.file as NftFile).commands) {
    if (cmd.c === 'table' && tableKey(cmd.ref) === table) for (const it of cmd.items ?? []) if (it.i === 'set') out.push(it.set.nameTok.text);
    if (cmd.c === 'set' && tableKey(cmd.ref) === table) out.push(cmd.set.nameTok.text);
  }
  return out;
}

/** Names that differ from `name` only in case, or by at most two edits (not more than a third of it). */
export function closestNames(name: string, names: readonly string[]): string[] {
  const scored = names.filter((n) => n !== name).map((n) => ({ n, d: n.toLowerCase() === name.toLowerCase() ? 0 : editDistance(n, name) }));
  const limit = Math.min(2, Math.floor(name.length / 3));
  return scored.filter((s) => s.d <= limit).sort((a, b) => a.d - b.d || a.n.localeCompare(b.n)).slice(0, 3).map((s) => s.n);
}

/** Levenshtein distance, with a swap of two neighbours as one edit (a typo's usual shapes). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}


/**
 * Everything arriving on `lo`. When no rule names `lo` it has no interval of its own (the space
 * only names interfaces that rules mention): it lies in the gap code of the unnamed interfaces.
 */
function loopbackSet(space: PacketSpace): Box[] {
  const code = space.ifaces.code('lo');
  return space.all().map((u) => {
    const b = u.slice();
    b[2 * D.iif] = code;
    b[2 * D.iif + 1] = code;
    return b;
  });
}

// --- narrowing a source ------------------------------------------------------------------------

/**
 * Narrow a rule's source. Catch-all: to each CIDR of its comment (the intent the outage rule lost),
 * else to the trusted sources, else a placeholder. World-open: to the trusted sources (one rule per
 * range), else a placeholder.
 */
function narrowFixes(ctx: Ctx, rule: Rule, why: 'catch-all' | 'world'): Fix[] {
  const { doc, text, printer, opts } = ctx;
  if (!printer) return [];
  const first = rule.range.start.line;
  if (rule.range.end.line !== first) return []; // a rule over several lines is not rewritten
  const line = lineText(text, first);

  const fromComment = why === 'catch-all' ? usableCidrs(doc, cidrsIn(rule.comment ?? '')) : [];
  if (fromComment.length) {
    return fromComment.slice(0, 3).map((cidr, i): Fix | undefined => {
      const change = printer.narrowSource(rule, line, cidr);
      return change ? { title: `Narrow this rule to source ${cidr} (from its comment)`, edit: workspaceEdit(ctx, [lineChangeEdit(first, change)]), isPreferred: i === 0 } : undefined;
    }).filter((f): f is Fix => !!f);
  }
  const trusted = usableCidrs(doc, opts.trustedSources);
  if (trusted.length) {
    if (why === 'catch-all') {
      return trusted.slice(0, 3).map((cidr): Fix | undefined => {
        const change = printer.narrowSource(rule, line, cidr);
        return change ? { title: `Narrow this rule to source ${cidr} (from firewallLens.trustedSources)`, edit: workspaceEdit(ctx, [lineChangeEdit(first, change)]) } : undefined;
      }).filter((f): f is Fix => !!f);
    }
    if (trusted.length === 1) {
      const change = printer.narrowSource(rule, line, trusted[0]);
      return change ? [{ title: `Allow only the trusted source ${trusted[0]}`, edit: workspaceEdit(ctx, [lineChangeEdit(first, change)]), isPreferred: true }] : [];
    }
    // One rule per trusted range: together they allow exactly the trusted sources.
    const copies = trusted.map((cidr) => printer.narrowSource(rule, line, cidr)).map((c) => (c ? applyLineChange(line, c) : undefined));
    if (copies.some((c) => c === undefined)) return [];
    return [{
      title: `Allow only the trusted sources (${trusted.join(', ')})`,
      edit: workspaceEdit(ctx, [replaceLine(text, first, (copies as string[]).join(eolOf(text)))]),
      isPreferred: true,
    }];
  }
  if (!opts.snippetEdits) return [];
  const change = printer.narrowSource(rule, line, PLACEHOLDER);
  if (!change) return [];
  // A snippet edit: the client selects the placeholder, the user types the intended range.
  const snippet: SnippetTextEdit = {
    range: { start: { line: first, character: change.start }, end: { line: first, character: change.end } },
    snippet: { kind: 'snippet', value: change.text.replace(PLACEHOLDER, PLACEHOLDER_STOP) },
  };
  return [{ title: 'Narrow this rule to a source range… (or set firewallLens.trustedSources)', edit: workspaceEdit(ctx, [snippet]) }];
}

/** Only the characters that change: the source token, or the ` -s X` inserted after `-A CHAIN`. */
function lineChangeEdit(line: number, c: LineChange): TextEdit {
  return { range: { start: { line, character: c.start }, end: { line, character: c.end } }, newText: c.text };
}

/** IPv4 and IPv6 addresses with or without a prefix length, as written in a comment. */
export function cidrsIn(comment: string): string[] {
  const out: string[] = [];
  for (const m of comment.matchAll(/(?<![\w.:])(\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}(?:\/\d{1,3})?)(?![\w.:])/g)) {
    if (parseCidr(m[1])) out.push(m[1]);
  }
  return out;
}

/** The CIDRs of `list` that parse and are of a family of the policy, normalized. */
function usableCidrs(doc: DocumentAnalysis, list: readonly string[]): string[] {
  const families = doc.policy.families;
  return list.map(normalizeCidr).filter((c): c is { text: string; family: 4 | 6 } => !!c && families.includes(c.family)).map((c) => c.text);
}

function normalizeCidr(text: string): { text: string; family: 4 | 6 } | undefined {
  const c = parseCidr(text);
  if (!c) return undefined;
  return { text: `${formatAddr(c.family, c.first)}/${c.len}`, family: c.family };
}

// --- shadowed and redundant rules ---------------------------------------------------------------

function hiddenRuleFixes(ctx: Ctx, rule: Rule, d: Diagnostic): Fix[] {
  const { doc, text } = ctx;
  const chain = doc.analysis.resolve(rule.table, rule.chain);
  const [first, last] = [rule.range.start.line, rule.range.end.line];
  const what = d.code === 'redundant-rule' ? 'redundant' : 'shadowed';
  const fixes: Fix[] = [{ title: `Delete this ${what} rule`, edit: workspaceEdit(ctx, [deleteLines(text, first, last)]), isPreferred: what === 'redundant' }];
  const by = numbers((d.data as Record<string, unknown> | undefined)?.by).map((i) => chain?.rules[i]).filter((r): r is Rule => !!r);
  const above = chain && moveTarget(doc, chain, rule, by);
  if (above) {
    fixes.push({ title: `Move this rule above line ${above.range.start.line + 1} (a rule that hides it)`, edit: workspaceEdit(ctx, moveLines(text, first, last, { before: above.range.start.line })) });
  }
  return fixes;
}

/**
 * The hiding rule to move above: the latest one above which some packet would reach the rule, so
 * the move jumps over as few rules as it must (not above the loopback and conntrack accepts that
 * take only a part of it).
 */
function moveTarget(doc: DocumentAnalysis, chain: Chain, rule: Rule, by: readonly Rule[]): Rule | undefined {
  const sets = doc.analysis.compiled.sets.get(rule);
  const reach = doc.analysis.facts.get(chain)?.reach;
  const takers = [...by].filter((r) => r.index < rule.index).sort((a, b) => b.index - a.index);
  if (!sets || !reach) return takers[takers.length - 1];
  for (const t of takers) {
    // Not covered by the rules above t (or too costly to tell, which only makes the move shorter).
    if (!reach.coveredBy(sets.may, t.index)) return t;
  }
  return takers[takers.length - 1];
}

// --- host bits ------------------------------------------------------------------------------------

function hostBitsFixes(ctx: Ctx, d: Diagnostic): Fix[] {
  const e = hostBitsEdits(ctx.text, d.range);
  if (!e) return [];
  return [
    { title: `Use the network address ${e.network.newText}`, edit: workspaceEdit(ctx, [e.network]), isPreferred: true },
    { title: `Use the single address ${e.host.newText}`, edit: workspaceEdit(ctx, [e.host]) },
  ];
}

/** The address token with host bits under `range`: as its network, or as one host (/32, /128). */
function hostBitsEdits(text: TextDocument, range: Range): { network: TextEdit; host: TextEdit } | undefined {
  const token = text.getText(range);
  const c = parseCidr(token);
  if (!c || !c.hostBits) return undefined;
  return {
    network: { range, newText: `${formatAddr(c.family, c.first)}/${c.len}` },
    host: { range, newText: `${token.split('/')[0]}/${c.family === 4 ? 32 : 128}` },
  };
}

// --- open to the world ------------------------------------------------------------------------------

function openToWorldFixes(ctx: Ctx, rule: Rule): Fix[] {
  return narrowFixes(ctx, rule, 'world');
}

// --- fix all --------------------------------------------------------------------------------------

/** The fixes that never change what the policy means, or only what it obviously meant. */
function fixAll(ctx: Ctx): CodeAction | undefined {
  const { doc, text } = ctx;
  const deleted = new Set<number>();
  for (const f of doc.findings) {
    if (f.code !== 'redundant-rule') continue;
    const rule = ruleOfData(doc, f.data);
    if (!rule) continue;
    for (let l = rule.range.start.line; l <= rule.range.end.line; l++) deleted.add(l);
  }
  const edits: TextEdit[] = [];
  for (const f of doc.findings) {
    if (f.code !== 'cidr-host-bits' || deleted.has(f.range.start.line)) continue;
    const e = hostBitsEdits(text, f.range);
    if (e) edits.push(e.network);
  }
  // Consecutive deleted lines go in one edit, so that no two edits touch.
  const lines = [...deleted].sort((a, b) => a - b);
  for (let i = 0; i < lines.length;) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j] + 1) j++;
    edits.push(deleteLines(text, lines[i], lines[j]));
    i = j + 1;
  }
  if (!edits.length) return undefined;
  return { title: 'Fix all safe Firewall Lens findings (host bits, redundant rules)', kind: FIX_ALL_KIND, edit: workspaceEdit(ctx, edits) };
}

// --- helpers --------------------------------------------------------------------------------------

function numbers(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((n): n is number => typeof n === 'number') : [];
}

function workspaceEdit(ctx: Ctx, edits: Edit[]): WorkspaceEdit {
  const { text, opts } = ctx;
  if (opts.documentChanges || edits.some((e) => 'snippet' in e)) {
    return { documentChanges: [{ textDocument: { uri: text.uri, version: text.version }, edits }] };
  }
  return { changes: { [text.uri]: edits as TextEdit[] } };
}


// Go to definition and find references for chains: a jump target or `-A NAME` leads to the
// chain's declaration; references are every jump/goto to it (and, with the declaration, the
// declaration and the rules appended to it).
import type { Location, Position } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Chain, Range, Rule } from '../model/policy';
import type { DocumentAnalysis } from './document';
import { targetAt } from './locate';
import { lineText } from './text';
import { memo } from './memo';

export function chainAt(doc: DocumentAnalysis, text: TextDocument, pos: Position): Chain | undefined {
  const t = targetAt(doc, (l) => lineText(text, l), pos);
  if (!t) return undefined;
  if (t.kind === 'chain-decl' || t.kind === 'policy') return t.chain;
  if (t.kind === 'chain-ref') return doc.analysis.resolve(t.table, t.name);
  return undefined;
}

export function definition(doc: DocumentAnalysis, text: TextDocument, pos: Position): Location | null {
  const t = targetAt(doc, (l) => lineText(text, l), pos);
  if (!t || (t.kind !== 'chain-ref' && t.kind !== 'chain-decl')) return null;
  const chain = t.kind === 'chain-ref' ? doc.analysis.resolve(t.table, t.name) : t.chain;
  return chain ? { uri: text.uri, range: chain.range } : null;
}

export function references(doc: DocumentAnalysis, text: TextDocument, pos: Position, includeDeclaration: boolean): Location[] {
  const chain = chainAt(doc, text, pos);
  if (!chain) return [];
  const refs = memo(doc, 'chain-refs', () => chainReferences(doc, text));
  const out: Location[] = [];
  if (includeDeclaration) out.push({ uri: text.uri, range: chain.range });
  for (const r of refs.get(chain) ?? []) if (includeDeclaration || r.jump) out.push({ uri: text.uri, range: r.range });
  return out;
}

interface Ref { range: Range; jump: boolean }

/** Every use of every chain: jump/goto targets, and (iptables) the `-A NAME` of each rule. */
function chainReferences(doc: DocumentAnalysis, text: TextDocument): Map<Chain, Ref[]> {
  const map = new Map<Chain, Ref[]>();
  const add = (c: Chain | undefined, r: Ref | undefined) => {
    if (!c || !r) return;
    const list = map.get(c);
    if (list) list.push(r);
    else map.set(c, [r]);
  };
  for (const t of doc.policy.tables) for (const c of t.chains.values()) for (const rule of c.rules) {
    const a = rule.action;
    if (a.kind === 'jump' || a.kind === 'goto') add(doc.analysis.resolve(rule.table, a.chain), targetRange(text, rule, a.chain, a.range));
    if (doc.language === 'iptables') add(c, appendRange(text, rule));
  }
  return map;
}

/** The chain name inside a jump's range (which may span `-j NAME` or just `NAME`). */
function targetRange(text: TextDocument, rule: Rule, name: string, range: Range | undefined): Ref | undefined {
  const r = range && range.start.line === range.end.line ? range : undefined;
  const line = lineText(text, (r ?? rule.range).start.line);
  const from = r ? r.start.character : 0;
  const to = r ? r.end.character : line.length;
  const slice = line.slice(from, to);
  const re = new RegExp(`(^|[\\s"])(${escapeRe(name)})(?=$|[\\s";])`, 'g');
  let m: RegExpExecArray | null;
  let last: number | undefined;
  while ((m = re.exec(slice))) last = m.index + m[1].length;
  if (last === undefined) return r ? { range: r, jump: true } : undefined;
  const l = (r ?? rule.range).start.line;
  return { range: { start: { line: l, character: from + last }, end: { line: l, character: from + last + name.length } }, jump: true };
}

function appendRange(text: TextDocument, rule: Rule): Ref | undefined {
  const l = rule.range.start.line;
  const m = /^(\s*(?:-A|--append|-I|--insert)\s+)(\S+)/.exec(lineText(text, l));
  if (!m || m[2] !== rule.chain) return undefined;
  return { range: { start: { line: l, character: m[1].length }, end: { line: l, character: m[1].length + m[2].length } }, jump: false };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// What is under the cursor: a CIDR, a port, a protocol, a chain name, a policy, or just a rule.
// Works on the policy's ranges plus the line's text (for the token under the cursor), so it does not
// depend on the shape of either format's syntax tree. The per-document index is built once per
// analysis and kept in a WeakMap, so hovers on a 10k-rule file stay a map lookup.
import type { Chain, Condition, Policy, Position, Range, Rule, Table } from '../model/policy';
import type { DocumentAnalysis } from './document';

export interface DocIndex {
  /** Rule by every line it spans. */
  ruleAt: Map<number, Rule>;
  /** Chains declared (or with a policy declared) on a line. */
  declAt: Map<number, Chain[]>;
  chains: Chain[];
}

const indexes = new WeakMap<DocumentAnalysis, DocIndex>();

export function docIndex(doc: DocumentAnalysis): DocIndex {
  let ix = indexes.get(doc);
  if (!ix) {
    ix = buildIndex(doc.policy);
    indexes.set(doc, ix);
  }
  return ix;
}

function buildIndex(policy: Policy): DocIndex {
  const ruleAt = new Map<number, Rule>();
  const declAt = new Map<number, Chain[]>();
  const chains: Chain[] = [];
  const addDecl = (line: number, c: Chain) => {
    const list = declAt.get(line);
    if (!list) declAt.set(line, [c]);
    else if (!list.includes(c)) list.push(c);
  };
  for (const t of policy.tables) {
    for (const c of t.chains.values()) {
      chains.push(c);
      addDecl(c.range.start.line, c);
      if (c.policyRange) addDecl(c.policyRange.start.line, c);
      for (const r of c.rules) for (let l = r.range.start.line; l <= r.range.end.line; l++) if (!ruleAt.has(l)) ruleAt.set(l, r);
    }
  }
  return { ruleAt, declAt, chains };
}

export function contains(range: Range | undefined, p: Position): boolean {
  if (!range) return false;
  if (p.line < range.start.line || p.line > range.end.line) return false;
  if (p.line === range.start.line && p.character < range.start.character) return false;
  if (p.line === range.end.line && p.character > range.end.character) return false;
  return true;
}

export interface Word {
  text: string;
  range: Range;
}

/** Characters that end a token: whitespace, list separators, braces, quotes, `!`, `;`. */
const STOP = /[\s,{}"';!()=]/;

/** The token under the cursor (a cursor just after a token still counts as on it). */
export function wordAt(lineText: string, line: number, character: number): Word | undefined {
  let s = Math.min(character, lineText.length);
  let e = s;
  while (s > 0 && !STOP.test(lineText[s - 1])) s--;
  while (e < lineText.length && !STOP.test(lineText[e])) e++;
  if (s === e) return undefined;
  return { text: lineText.slice(s, e), range: { start: { line, character: s }, end: { line, character: e } } };
}

export type Target =
  | { kind: 'address'; word: Word; as: 'src' | 'dst'; rule?: Rule; cond?: Condition }
  | { kind: 'port'; word: Word; rule: Rule; cond: Condition & { field: 'sport' | 'dport' } }
  | { kind: 'proto'; word: Word; rule: Rule; cond: Condition & { field: 'proto' } }
  /** A chain name used in a rule: its own chain (`-A NAME`) or a jump/goto target. */
  | { kind: 'chain-ref'; word: Word; table: string; name: string; rule: Rule; isTarget: boolean }
  | { kind: 'chain-decl'; word: Word; chain: Chain }
  | { kind: 'policy'; word: Word; chain: Chain }
  | { kind: 'rule'; rule: Rule };

const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:.]*)(\/\d{1,3})?$/i;

export function looksLikeAddress(text: string): boolean {
  return ADDRESS.test(text) && (text.includes('.') || text.split(':').length > 2);
}

/** Classifies the position; `lineOf(n)` is the text of line n without its line ending. */
export function targetAt(doc: DocumentAnalysis, lineOf: (line: number) => string, pos: Position): Target | undefined {
  const ix = docIndex(doc);
  const lineText = lineOf(pos.line);
  const word = wordAt(lineText, pos.line, pos.character);
  const decl = ix.declAt.get(pos.line);
  if (decl && word) {
    for (const c of decl) {
      if (contains(c.policyRange, pos) && c.policyRange!.start.line !== c.policyRange!.end.line) return { kind: 'policy', word, chain: c };
      if (c.policy && word.text.toLowerCase() === c.policy) return { kind: 'policy', word, chain: c };
      if (word.text === c.name || word.text === `:${c.name}`) return { kind: 'chain-decl', word, chain: c };
      if (contains(c.policyRange, pos)) return { kind: 'policy', word, chain: c };
    }
  }
  const rule = ix.ruleAt.get(pos.line);
  if (!rule) return addressOutsideRules(doc, lineOf, pos, word);
  if (!word) return { kind: 'rule', rule };
  const cond = conditionAt(rule.conditions, pos);
  if (looksLikeAddress(word.text)) {
    const as = cond && (cond.field === 'src' || cond.field === 'dst') ? cond.field : addressFieldByText(lineText, word.range.start.character) ?? 'src';
    return { kind: 'address', word, as, rule, cond };
  }
  if (cond && (cond.field === 'sport' || cond.field === 'dport')) return { kind: 'port', word, rule, cond };
  if (cond && cond.field === 'proto') return { kind: 'proto', word, rule, cond };
  const a = rule.action;
  if ((a.kind === 'jump' || a.kind === 'goto') && word.text === a.chain && (contains(a.range, pos) || /(-j|-g|--jump|--goto|jump|goto)\s+$/.test(lineText.slice(0, word.range.start.character)))) {
    return { kind: 'chain-ref', word, table: rule.table, name: a.chain, rule, isTarget: true };
  }
  if (word.text === rule.chain && /(^|\s)(-A|--append|-I|--insert|-R|--replace)\s+$/.test(lineText.slice(0, word.range.start.character))) {
    return { kind: 'chain-ref', word, table: rule.table, name: rule.chain, rule, isTarget: false };
  }
  return { kind: 'rule', rule };
}

/** The innermost condition whose source range holds the position (into `any` alternatives too). */
export function conditionAt(conds: readonly Condition[], pos: Position): Condition | undefined {
  for (const c of conds) {
    if (c.field === 'any') {
      for (const alt of c.alternatives) {
        const inner = conditionAt(alt, pos);
        if (inner) return inner;
      }
    }
    if (contains(c.range, pos)) return c;
  }
  return undefined;
}

/** `-s`/`saddr` (source) or `-d`/`daddr` (destination) nearest before the column. */
function addressFieldByText(lineText: string, column: number): 'src' | 'dst' | undefined {
  const before = lineText.slice(0, column);
  const m = [...before.matchAll(/(?:^|\s)(-s|--source|--src-range|saddr|-d|--destination|--dst-range|daddr)\b/g)].pop();
  if (!m) return undefined;
  return /^(-s|--source|--src-range|saddr)$/.test(m[1]) ? 'src' : 'dst';
}

/**
 * An address outside any rule: an nftables set element or `define`. Its field is the one the rules
 * that use the set or variable match it with; its chain is theirs.
 */
function addressOutsideRules(doc: DocumentAnalysis, lineOf: (line: number) => string, pos: Position, word: Word | undefined): Target | undefined {
  if (!word || !looksLikeAddress(word.text)) return undefined;
  // The set or variable the element belongs to: `define NAME = ...` or the nearest `set NAME {` above.
  let name: string | undefined;
  for (let l = pos.line; l >= 0 && l > pos.line - 50 && !name; l--) {
    const text = lineOf(l);
    const m = /^\s*define\s+([\w.-]+)/.exec(text) ?? /\b(?:set|map)\s+([\w.-]+)\s*\{/.exec(text);
    if (m) name = m[1];
    else if (l < pos.line && /^\s*\}/.test(text)) break; // left the block we were in
  }
  const user = name ? usersOf(doc.policy, name)[0] : undefined;
  return { kind: 'address', word, as: user?.as ?? 'src', rule: user?.rule };
}

/** The rules that mention `@name` or `$name` (nftables sets and variables), with the field used. */
export function usersOf(policy: Policy, name: string): { rule: Rule; as: 'src' | 'dst' }[] {
  const out: { rule: Rule; as: 'src' | 'dst' }[] = [];
  const re = new RegExp(`\\b(saddr|daddr)\\s+(?:!=\\s*)?[@$]${name.replace(/[^\w.-]/g, '')}\\b`);
  for (const t of policy.tables) for (const c of t.chains.values()) for (const r of c.rules) {
    const m = re.exec(r.text);
    if (m) out.push({ rule: r, as: m[1] === 'saddr' ? 'src' : 'dst' });
  }
  return out;
}

export function tableOf(policy: Policy, chain: Chain): Table | undefined {
  return policy.tables.find((t) => t.chains.get(chain.name) === chain);
}

// What one iptables rule means in the model's terms: its conditions (each keeping the range of
// the word it came from, for hovers and quick fixes), its action and its comment. What the model
// cannot express (TCP flags, fragments, rate limits, marks, sets, DNS names, non-contiguous
// masks, SNAT/DNAT conntrack states) becomes an `opaque` condition, so the analysis stays sound:
// an opaque condition may or may not hold for any packet.
import type { Action, AddrRange, ConnState, Condition, Family, Range, Verdict } from '../../model/policy';
import type { AddrValue } from './addresses';
import { dict } from '../../model/dict';
import { findOwned, lastOwned, OF_RULE, type MatchRecord, type OptionRecord, type RuleRecords } from './records';
import type { RuleMeaning, Token } from './tree';
import { tokenRange } from './tree';

const MODEL_STATES = new Set<string>(['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED']);
const VERDICTS = dict<Verdict>({ ACCEPT: 'accept', DROP: 'drop', REJECT: 'reject' });
const V6_ALL = (1n << 128n) - 1n;

/**
 * Conditions of the rules being lowered are appended here and each rule's are copied out into an
 * array of their number: the model keeps one such array per rule, and a new array that is pushed
 * to reserves room for sixteen. Emptied now and then (emptying frees its room).
 */
const scratch: Condition[] = [];

/** Lowers the rule the command reader just read (its records) into conditions, action and comment. */
export function ruleMeaning(r: RuleRecords, family: Family): RuleMeaning {
  if (scratch.length > 256) scratch.length = 0;
  const from = scratch.length;
  const conditions = scratch;
  const line = r.line;
  let comment: string | undefined;
  const options = r.options;
  for (let k = 0; k < r.optionCount; k++) if (options[k].owner === OF_RULE) lowerBuiltin(options[k], line, family, conditions);
  const matches = r.matches;
  for (let k = 0; k < r.matchCount; k++) {
    const m = matches[k];
    if (m.module === 'comment') {
      const c = findOwned(r, k)?.value;
      if (c?.kind === 'text') comment = comment === undefined ? c.text : `${comment} ${c.text}`;
      continue;
    }
    if (m.opaque) conditions.push({ field: 'opaque', negate: false, what: matchText(r, m, k), range: matchRange(r, m, k, line) });
    else lowerMatch(r, k, line, conditions);
  }
  const meaning: RuleMeaning = { conditions: scratch.slice(from), action: lowerAction(r) };
  if (comment !== undefined) meaning.comment = comment;
  return meaning;
}

function valueRange(line: number, o: OptionRecord): Range {
  const a = o.args;
  if (o.argc === 0) return tokenRange(line, o.flag);
  return { start: { line, character: a[0].start }, end: { line, character: a[o.argc - 1].end } };
}

/** The option's first word, or '' when it has none. */
function firstArgText(o: OptionRecord): string {
  return o.argc > 0 ? o.args[0].text : '';
}

function lowerBuiltin(o: OptionRecord, line: number, family: Family, out: Condition[]): void {
  const negate = o.not !== undefined;
  const v = o.value;
  switch (o.name) {
    case 'source': case 'destination': {
      if (v?.kind !== 'addrs') return;
      out.push(addrCondition(o.name === 'source' ? 'src' : 'dst', negate, v.addrs, valueRange(line, o), o));
      return;
    }
    case 'protocol':
      if (v?.kind === 'proto' && v.proto !== 0) out.push({ field: 'proto', negate, protos: protoList(v.proto), range: valueRange(line, o) });
      return;
    case 'in-interface': case 'out-interface':
      if (v?.kind === 'iface') out.push({ field: o.name === 'in-interface' ? 'iif' : 'oif', negate, names: [v.name], range: valueRange(line, o) });
      return;
    case 'fragments':
      out.push({ field: 'opaque', negate, what: negate ? 'not a non-first fragment (! -f)' : 'non-first fragments only (-f)', range: tokenRange(line, o.flag) });
      return;
  }
}

/** `[p]` for protocol p, one array per protocol: conditions share their values (never modified). */
const PROTO_LISTS: number[][] = [];
function protoList(p: number): number[] {
  return (PROTO_LISTS[p] ??= [p]);
}

function addrCondition(field: 'src' | 'dst', negate: boolean, addrs: AddrValue[], range: Range, o: OptionRecord): Condition {
  for (let k = 0; k < addrs.length; k++) {
    const a = addrs[k];
    if (a.hostname !== undefined || a.prefix < 0) {
      const why = a.hostname !== undefined ? `host name ${a.hostname} (resolved by DNS at load time)` : 'a non-contiguous mask';
      return { field: 'opaque', negate, what: `${o.flag.text} ${firstArgText(o)}: ${why}`, range };
    }
  }
  return { field, negate, addrs: addrs.map(toAddrRange), range };
}

export function toAddrRange(a: AddrValue): AddrRange {
  if (a.family === 4) {
    const net = a.net as number;
    const first = BigInt(net);
    // A host address is a range of one: both ends can be the same (immutable) bigint.
    return { family: 4, first, last: a.prefix === 32 ? first : BigInt(net + 2 ** (32 - a.prefix) - 1) };
  }
  const net = a.net as bigint;
  const hostMask = a.prefix === 0 ? V6_ALL : (1n << BigInt(128 - a.prefix)) - 1n;
  return { family: 6, first: net, last: net | hostMask };
}

/** The conditions of the options of match `index` (a modeled one). */
function lowerMatch(r: RuleRecords, index: number, line: number, out: Condition[]): void {
  const module = r.matches[index].module;
  const options = r.options;
  for (let k = 0; k < r.optionCount; k++) {
    const o = options[k];
    if (o.owner !== index) continue;
    const negate = o.not !== undefined;
    const v = o.value;
    const range = valueRange(line, o);
    switch (o.name) {
      case 'source-port': case 'source-ports':
        if (v?.kind === 'ports') out.push({ field: 'sport', negate, ports: v.ranges, range });
        continue;
      case 'destination-port': case 'destination-ports':
        if (v?.kind === 'ports') out.push({ field: 'dport', negate, ports: v.ranges, range });
        continue;
      case 'ports':
        if (v?.kind === 'ports') {
          out.push({ field: 'any', negate, range, alternatives: [[{ field: 'sport', negate: false, ports: v.ranges, range }], [{ field: 'dport', negate: false, ports: v.ranges, range }]] });
        }
        continue;
      case 'icmp-type': case 'icmpv6-type':
        if (v?.kind === 'icmp') {
          // `any` (IPv4 type 255) matches every ICMP packet; negated, none.
          if (v.icmp.any) { if (negate) out.push({ field: 'icmp', negate: false, keys: [], range }); }
          else out.push({ field: 'icmp', negate, keys: [v.icmp.keys], range });
        }
        continue;
      case 'ctstate': case 'state':
        if (v?.kind === 'states') out.push(stateCondition(v.states, negate, range, o));
        continue;
      case 'src-range': case 'dst-range':
        if (v?.kind === 'range') {
          const first = BigInt(v.first);
          const last = BigInt(v.last);
          const addrs: AddrRange[] = first <= last ? [{ family: v.family, first, last }] : [];
          out.push({ field: o.name === 'src-range' ? 'src' : 'dst', negate, addrs, range });
        }
        continue;
      default:
        // TCP flags and options, SCTP chunks, DCCP types, conntrack's other tests.
        out.push({ field: 'opaque', negate, what: `${module} ${optionText(o)}`, range: optionRange(o, line) });
    }
  }
}

function stateCondition(states: string[], negate: boolean, range: Range, o: OptionRecord): Condition {
  const known = states.filter(isModelState);
  if (known.length === states.length) return { field: 'state', negate, states: known, range };
  // SNAT/DNAT are facts about the connection the model does not track.
  const opaque: Condition = { field: 'opaque', negate: false, what: `${o.flag.text} ${firstArgText(o)} (SNAT/DNAT state)`, range };
  if (known.length === 0) return { ...opaque, negate };
  return { field: 'any', negate, range, alternatives: [[{ field: 'state', negate: false, states: known, range }], [opaque]] };
}

function isModelState(s: string): s is ConnState {
  return MODEL_STATES.has(s);
}

function lowerAction(r: RuleRecords): Action {
  const t = r.target;
  if (!t) return { kind: 'continue', target: '' };
  const range = tokenRange(r.line, t.nameToken);
  if (t.kind === 'goto') return { kind: 'goto', chain: t.name, range };
  if (t.type === 'chain') return { kind: 'jump', chain: t.name, range };
  if (t.name === 'RETURN') return { kind: 'return', range };
  const verdict = VERDICTS[t.name];
  if (verdict) return { kind: 'verdict', verdict, range };
  return { kind: 'continue', target: t.name, range };
}

function optionText(o: OptionRecord): string {
  let text = `${o.not ? '! ' : ''}${o.flag.text}`;
  for (let k = 0; k < o.argc; k++) text += ` ${o.args[k].text}`;
  return text;
}

function optionRange(o: OptionRecord, line: number): Range {
  const first: Token = o.not ?? o.flag;
  const last: Token = o.argc > 0 ? o.args[o.argc - 1] : o.flag;
  return { start: { line, character: first.start }, end: { line, character: last.end } };
}

/** The words of match `index` as written (`-m limit --limit 3/s`). */
function matchText(r: RuleRecords, m: MatchRecord, index: number): string {
  const head = m.implicit ? '' : `-m ${m.module}`;
  let opts = '';
  for (let k = 0; k < r.optionCount; k++) {
    const o = r.options[k];
    if (o.owner === index) opts += `${opts ? ' ' : ''}${optionText(o)}`;
  }
  return `${head}${head && opts ? ' ' : ''}${opts}`;
}

function matchRange(r: RuleRecords, m: MatchRecord, index: number, line: number): Range {
  const fo = findOwned(r, index);
  const first: Token | undefined = m.flag ?? (fo ? (fo.not ?? fo.flag) : undefined);
  let last: Token | undefined = m.nameToken;
  const lo = lastOwned(r, index);
  if (lo) last = lo.argc > 0 ? lo.args[lo.argc - 1] : lo.flag;
  const s = first ?? last;
  const e = last ?? first;
  if (!s || !e) return { start: { line, character: 0 }, end: { line, character: 0 } };
  return { start: { line, character: s.start }, end: { line, character: e.end } };
}


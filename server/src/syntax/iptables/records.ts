// What the command reader records of the line it reads, in objects reused from line to line.
// Both uses of a rule line start from these records, so they cannot disagree: lowering reads them
// directly while a file is parsed (no tree is built for a rule then), and RuleLine.load() reads
// the line again and copies them into the tree's nodes (tree.ts) for whoever wants those.
import type { Token } from './lexer';
import type { OptionValue, TargetNode } from './tree';

/** The owner of an option of the rule itself (-s, -d, -p, -i, -o, -f). */
export const OF_RULE = -1;
/** The owner of an option of the target extension. */
export const OF_TARGET = -2;

/** One option as read; `owner` is OF_RULE, OF_TARGET or the index of its match. */
export interface OptionRecord {
  owner: number;
  /** Canonical long name (see OptionNode.name). */
  name: string;
  flag: Token;
  not: Token | undefined;
  /** The first `argc` are the option's words (the array is kept from line to line: it may hold more). */
  args: Token[];
  argc: number;
  value: OptionValue | undefined;
}

/** One match as read (see MatchNode); its options are the records it owns. */
export interface MatchRecord {
  module: string;
  flag: Token | undefined;
  nameToken: Token | undefined;
  implicit: boolean;
  opaque: boolean;
  unknown: boolean;
  /** How many options it owns. */
  optionCount: number;
}

/** The -j/-g of a rule as read (its options are the records owned by OF_TARGET). */
export type TargetRecord = Omit<TargetNode, 'options'>;

/** A rule line's records: valid until the next line is read. */
export interface RuleRecords {
  line: number;
  /** The first `optionCount` are the rule's options of every owner, in the order read. */
  readonly options: readonly OptionRecord[];
  readonly optionCount: number;
  readonly matches: readonly MatchRecord[];
  readonly matchCount: number;
  readonly target: TargetRecord | undefined;
}

/** The first record of `owner` named `name` (any name when `name` is undefined). */
export function findOwned(r: RuleRecords, owner: number, name?: string): OptionRecord | undefined {
  const options = r.options;
  for (let k = 0; k < r.optionCount; k++) {
    const o = options[k];
    if (o.owner === owner && (name === undefined || o.name === name)) return o;
  }
  return undefined;
}

/** The last record of `owner`. */
export function lastOwned(r: RuleRecords, owner: number): OptionRecord | undefined {
  for (let k = r.optionCount - 1; k >= 0; k--) if (r.options[k].owner === owner) return r.options[k];
  return undefined;
}

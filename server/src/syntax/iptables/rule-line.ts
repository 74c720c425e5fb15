// A rule of a parsed file as the tree keeps it. A 100k-rule file would otherwise hold some
// twenty objects per rule that nobody reads: so a rule keeps its line, command, chain, position
// number and meaning (the file reader makes them from the command reader's records, without a
// tree), and reads its words, options, matches and target again from the line when first asked
// for (the result is cached).
import type { Action, Condition, Family, Range } from '../../model/policy';
import { parseCommand, type ReadCommand } from './command';
import { lexWords, type Token } from './lexer';
import type { MatchNode, OptionNode, RuleMeaning, RuleNode, TargetNode } from './tree';
import { lineRange } from './tree';

export class RuleLine implements RuleNode {
  readonly kind = 'rule' as const;
  line: number;
  range: Range;
  text: string;
  ok: boolean;
  skipped: boolean | undefined;
  command: RuleNode['command'];
  chain: string;
  ruleNumber: number | undefined;
  countersToken: Token | undefined;
  meaning: RuleMeaning | undefined;
  private detail: RuleNode | undefined;

  /** The rule of line `line` (of text `text`) as the command reader just read it. */
  static read(read: ReadCommand, line: number, text: string, countersToken: Token | undefined, argStart: number, family: Family, table: string): RuleLine {
    return new RuleLine(line, text, !read.failed, read.skipped ? true : undefined, read.ruleCommand(), read.chainName(), read.ruleNumber, countersToken, argStart, family, table);
  }

  private constructor(
    line: number, text: string, ok: boolean, skipped: boolean | undefined, command: RuleNode['command'], chain: string,
    ruleNumber: number | undefined, countersToken: Token | undefined,
    private readonly argStart: number, private readonly family: Family, private readonly table: string,
  ) {
    this.line = line;
    this.range = lineRange(line, 0, text.length);
    this.text = text;
    this.ok = ok;
    this.skipped = skipped;
    this.command = command;
    this.chain = chain;
    this.ruleNumber = ruleNumber;
    this.countersToken = countersToken;
    this.meaning = undefined;
    this.detail = undefined;
  }

  /**
   * A fresh, error-free copy of this rule read at `line` (for the parse cache: the same text one
   * version later, maybe moved by lines inserted above it). Its ranges follow the line.
   */
  movedTo(line: number): RuleLine {
    const r = new RuleLine(line, this.text, true, this.skipped, this.command, this.chain, this.ruleNumber, this.countersToken, this.argStart, this.family, this.table);
    r.meaning = this.meaning && line !== this.line ? moveMeaning(this.meaning, line - this.line) : this.meaning;
    return r;
  }

  get tokens(): Token[] { return this.load().tokens; }
  get options(): OptionNode[] { return this.load().options; }
  get matches(): MatchNode[] { return this.load().matches; }
  get commandToken(): Token | undefined { return this.load().commandToken; }
  get chainToken(): Token | undefined { return this.load().chainToken; }
  get ruleNumberToken(): Token | undefined { return this.load().ruleNumberToken; }
  get target(): TargetNode | undefined { return this.load().target; }

  private load(): RuleNode {
    if (!this.detail) {
      const { tokens } = lexWords(this.text, this.argStart);
      const ctx = { family: this.family, table: this.table, line: this.line, lineText: this.text, findings: [] };
      this.detail = parseCommand(tokens, ctx, this.countersToken) as RuleNode;
    }
    return this.detail;
  }
}

/** The meaning of a rule moved down (or up) by `delta` lines: new ranges, the same values. */
function moveMeaning(m: RuleMeaning, delta: number): RuleMeaning {
  return { ...m, conditions: m.conditions.map((c) => moveCondition(c, delta)), action: moveAction(m.action, delta) };
}

function moveCondition(c: Condition, delta: number): Condition {
  const moved = { ...c, range: moveRange(c.range, delta) } as Condition;
  if (moved.field === 'any') moved.alternatives = moved.alternatives.map((alt) => alt.map((x) => moveCondition(x, delta)));
  return moved;
}

function moveAction(a: Action, delta: number): Action {
  return a.range ? { ...a, range: moveRange(a.range, delta) } : a;
}

function moveRange<R extends Range | undefined>(r: R, delta: number): R {
  if (!r) return r;
  return { start: { line: r.start.line + delta, character: r.start.character }, end: { line: r.end.line + delta, character: r.end.character } } as R;
}

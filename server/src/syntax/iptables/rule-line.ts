// A rule of a parsed file as the tree keeps it. A 100k-rule file would otherwise hold some
// twenty objects per rule that nobody reads: so a rule keeps its line, command, chain, position
// number and meaning, and reads its words, options, matches and target again from the line
// when first asked for (the result is cached).
import type { Family, Range } from '../../model/policy';
import { parseCommand } from './command';
import { lexWords, type Token } from './lexer';
import type { MatchNode, OptionNode, RuleMeaning, RuleNode, TargetNode } from './tree';

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

  /** `parsed` is the full node the parser just read (its words are reused afterwards). */
  constructor(parsed: RuleNode, private readonly argStart: number, private readonly family: Family, private readonly table: string) {
    this.line = parsed.line;
    this.range = parsed.range;
    this.text = parsed.text;
    this.ok = parsed.ok;
    this.skipped = parsed.skipped;
    this.command = parsed.command;
    this.chain = parsed.chain;
    this.ruleNumber = parsed.ruleNumber;
    this.countersToken = parsed.countersToken;
    this.meaning = undefined;
    this.detail = undefined;
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
      this.detail = parseCommand(tokens, ctx, this.countersToken).node as RuleNode;
    }
    return this.detail;
  }
}

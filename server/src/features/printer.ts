// How a fix is written in one file format. The code actions decide *what* to change (which rule,
// which range, which policy); a printer says how that reads in iptables-save or nftables syntax.
// Formats without a printer still get the format-independent fixes (delete and move rules).
import type { TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Chain, Rule, Verdict } from '../model/policy';
import type { LanguageId } from './document';
import { iptablesPrinter } from './edits-iptables';
import { nftablesPrinter } from './edits-nftables';

/** A change inside one line: columns [start, end) replaced by `text`. */
export interface LineChange { start: number; end: number; text: string }

export interface RulePrinter {
  /** A rule for `chain` accepting ESTABLISHED and RELATED traffic, indented `indent`. */
  acceptEstablished(chain: string, indent: string): string;
  /** A rule for `chain` accepting everything that comes in on the loopback interface. */
  acceptLoopback(chain: string, indent: string): string;
  /** A rule for `chain` accepting TCP connections to `port` from `cidr`. */
  acceptTcpFrom(chain: string, indent: string, port: number, cidr: string): string;
  /**
   * Where the first rule of a chain without rules goes: the line to insert before, and the
   * indentation of a rule there; undefined when the chain is not written so that a line fits.
   */
  firstRuleSlot(doc: TextDocument, chain: Chain): { before: number; indent: string } | undefined;
  /**
   * Declares the regular chain `name`, missing from the table of `from` (the chain whose rule
   * refers to it); undefined when that cannot be written simply.
   */
  declareChain(doc: TextDocument, name: string, from: Chain | undefined, at: number): TextEdit | undefined;
  /**
   * Makes the rule on `line` match only source `cidr` (replacing its source, or adding one), or
   * undefined when that cannot be written simply (a negated source, say).
   */
  narrowSource(rule: Rule, line: string, cidr: string): LineChange | undefined;
  /** Sets a base chain's default policy; undefined when the chain has no policy to set. */
  setPolicy(doc: TextDocument, chain: Chain, verdict: Verdict): TextEdit | undefined;
  /** The verdict a default policy can take for a rule's deny (REJECT is not a policy in iptables). */
  policyFor(verdict: Verdict): Verdict;
}

export function printerFor(language: LanguageId): RulePrinter | undefined {
  return language === 'iptables' ? iptablesPrinter : language === 'nftables' ? nftablesPrinter : undefined;
}

export function applyLineChange(line: string, c: LineChange): string {
  return line.slice(0, c.start) + c.text + line.slice(c.end);
}

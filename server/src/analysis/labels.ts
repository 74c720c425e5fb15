// How rules are named in messages: by their 1-based line, as editors show it.
import type { Rule } from '../model/policy';

export function lineRef(rule: Rule): string {
  return `line ${rule.range.start.line + 1}`;
}

export function ruleLabel(rule: Rule): string {
  const text = rule.text.length > 80 ? rule.text.slice(0, 77) + '…' : rule.text;
  return `${lineRef(rule)} (${text})`;
}

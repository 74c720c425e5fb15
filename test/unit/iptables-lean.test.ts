// A file's rules are read without a tree: the command reader's records go straight into the
// rule's fields and meaning, and the tree (tokens, options, matches, target) is made from the same
// records only when RuleLine.load() reads the line again. These tests check that the two never
// disagree: the tree read on demand, turned back into records and lowered, gives the meaning the
// parse stored, and carries the same command, chain and position.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateIptables } from '../../bench/generate';
import { ruleMeaning } from '../../server/src/syntax/iptables/lower-rule';
import { parseIptables } from '../../server/src/syntax/iptables/parser';
import { OF_RULE, OF_TARGET, type OptionRecord, type RuleRecords } from '../../server/src/syntax/iptables/records';
import type { IptablesFile, OptionNode, RuleNode } from '../../server/src/syntax/iptables/tree';

const EXAMPLES = join(__dirname, '../../examples');

/** The records a rule's tree was copied from. */
function recordsOf(node: RuleNode): RuleRecords {
  const options: OptionRecord[] = [];
  const add = (owner: number, list: OptionNode[]): void => {
    for (const o of list) options.push({ owner, name: o.name, flag: o.flag, not: o.not, args: o.args, argc: o.args.length, value: o.value });
  };
  add(OF_RULE, node.options);
  node.matches.forEach((m, k) => add(k, m.options));
  if (node.target) add(OF_TARGET, node.target.options);
  const matches = node.matches.map((m) => ({
    module: m.module, flag: m.flag, nameToken: m.nameToken, implicit: m.implicit, opaque: m.opaque, unknown: m.unknown ?? false, optionCount: m.options.length,
  }));
  return { line: node.line, options, optionCount: options.length, matches, matchCount: matches.length, target: node.target };
}

function ruleLines(file: IptablesFile): RuleNode[] {
  return file.tables.flatMap((t) => t.commands.filter((c): c is RuleNode => c.kind === 'rule'));
}

function checkFile(text: string, family?: 4 | 6): number {
  const file = parseIptables(text, family);
  let checked = 0;
  for (const rule of ruleLines(file)) {
    const tree = rule as RuleNode;
    assert.equal(tree.tokens.length > 0, true);
    if (rule.meaning) {
      const { key: _key, ...meaning } = rule.meaning;
      assert.deepEqual(ruleMeaning(recordsOf(tree), file.family), meaning, `line ${rule.line + 1}: ${rule.text}`);
      checked++;
    }
  }
  return checked;
}

test('the tree read on demand gives the meaning stored while parsing (examples)', () => {
  for (const name of readdirSync(EXAMPLES).filter((f) => f.endsWith('.rules'))) {
    assert.ok(checkFile(readFileSync(join(EXAMPLES, name), 'utf8')) > 0, name);
  }
});

test('the tree read on demand gives the meaning stored while parsing (generated, and edge cases)', () => {
  assert.ok(checkFile(generateIptables(500, 3)) >= 500);
  const edge = [
    '-A INPUT -m comment --comment one -m comment --comment two -j ACCEPT',
    '-A INPUT -p tcp -m tcp --sport 1 -m tcp --dport 2 -j ACCEPT',
    '-A INPUT -m limit --limit 3/s --limit-burst 5 -m mark ! --mark 0x1/0xff -j LOG --log-prefix "x y"',
    '-A INPUT -m conntrack --ctstate DNAT,NEW -m state ! --state INVALID -j ACCEPT',
    '-A INPUT -s host.example,10.0.0.0/8 -d 1.2.3.4/255.0.255.0 -j DROP',
    '-A INPUT -m iprange --src-range 10.0.0.9-10.0.0.1 --dst-range 10.0.0.1-10.0.0.9 -j DROP',
    '-A INPUT -p tcp --tcp-flags=SYN,ACK SYN --dpo=22 -m multiport --ports 1,2:3 -j REJECT --reject-with tcp-reset',
    '-A INPUT -p icmp --icmp-type any -j ACCEPT',
    '-A INPUT -p 47 -m somethingunknown --foo bar baz -j ACCEPT',
    '-A INPUT -f -ieth+ -j USER',
    '-A INPUT -g USER',
    '-I INPUT 1 -p udp ! --sport 53 -j RETURN',
  ];
  const text = `*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:USER - [0:0]\n${edge.join('\n')}\nCOMMIT\n`;
  assert.equal(checkFile(text), edge.length);
});

test('a rule\'s fields are those of its tree read again', () => {
  const file = parseIptables('*filter\n:INPUT DROP [0:0]\n[1:2] -I INPUT 1 -p tcp --dport 22 -j ACCEPT\n-A INPUT -6 -j DROP\n-R INPUT 1 -j DROP\nCOMMIT\n');
  const rules = ruleLines(file);
  assert.deepEqual(rules.map((r) => [r.command, r.chain, r.ruleNumber, r.countersToken?.text, r.skipped, r.chainToken?.text, r.ruleNumberToken?.text]), [
    ['I', 'INPUT', 1, '[1:2]', undefined, 'INPUT', '1'],
    ['A', 'INPUT', undefined, undefined, true, 'INPUT', undefined],
    ['R', 'INPUT', 1, undefined, undefined, 'INPUT', '1'],
  ]);
});

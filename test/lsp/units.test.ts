// The pure pieces of the server without a process: settings, the schedule, line edits (line
// endings, a last line without newline), the token under the cursor, CIDRs in comments.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { parseSettings } from '../../server/src/features/settings';
import { Debouncer } from '../../server/src/features/scheduler';
import { deleteLines, insertAfter, insertBefore, moveLines } from '../../server/src/features/line-edits';
import { looksLikeAddress, wordAt } from '../../server/src/features/locate';
import { cidrsIn } from '../../server/src/features/code-actions';
import { applyTextEdits, snippetText } from './apply-edits';

const doc = (text: string) => TextDocument.create('file:///t.rules', 'iptables', 1, text);

describe('settings', () => {
  it('maps firewallLens.* onto the engine settings and ignores what is malformed', () => {
    const s = parseSettings({
      codes: { 'shadowed-rule': { enabled: false }, 'redundant-rule': { severity: 'warning' }, bogus: { enabled: false }, lockout: { severity: 'loud' } },
      sensitivePorts: [22, 'x', 70000, 3306],
      trustedSources: ['10.0.0.0/8', 3, ' 192.168.0.0/16 '],
    });
    assert.deepEqual(s.codes, { 'shadowed-rule': { enabled: false }, 'redundant-rule': { severity: 'warning' }, lockout: {} });
    assert.deepEqual(s.sensitivePorts, [22, 3306]);
    assert.deepEqual(s.trustedSources, ['10.0.0.0/8', '192.168.0.0/16']);
    assert.deepEqual(parseSettings(null).codes, {});
    // The client's package.json contributes disabledCodes and severityOverrides.
    const t = parseSettings({ disabledCodes: ['lockout', 'nope'], severityOverrides: { 'open-to-world': 'error', 'cidr-host-bits': 'information', x: 'hint' } });
    assert.deepEqual(t.codes, { lockout: { enabled: false }, 'open-to-world': { severity: 'error' }, 'cidr-host-bits': { severity: 'info' } });
  });
});

describe('schedule', () => {
  it('runs an isolated edit at once and a burst once, after it goes quiet', async () => {
    let now = 0;
    const runs: string[] = [];
    const d = new Debouncer<string>((k) => runs.push(k), { quietMs: 300, leadingMs: 1 }, () => now);
    d.changed('a');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(runs, ['a']);
    now = 1000;
    d.changed('a');
    now = 1010;
    d.changed('a'); // within quietMs of the last one: a burst
    now = 1020;
    d.changed('a');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(runs, ['a'], 'still waiting for quiet');
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(runs, ['a', 'a']);
    d.changed('b');
    assert.equal(d.flush('b'), true);
    assert.equal(d.flush('b'), false);
    assert.deepEqual(runs, ['a', 'a', 'b']);
  });
});

describe('line edits', () => {
  for (const eol of ['\n', '\r\n']) {
    const text = ['a', 'b', 'c', 'd'].join(eol) + eol;
    it(`move, insert and delete keep ${JSON.stringify(eol)} line endings`, () => {
      const t = doc(text);
      assert.equal(applyTextEdits(text, moveLines(t, 0, 0, { after: 2 })), ['b', 'c', 'a', 'd'].join(eol) + eol);
      assert.equal(applyTextEdits(text, moveLines(t, 3, 3, { before: 1 })), ['a', 'd', 'b', 'c'].join(eol) + eol);
      assert.equal(applyTextEdits(text, [insertBefore(t, 1, ['x', 'y'])]), ['a', 'x', 'y', 'b', 'c', 'd'].join(eol) + eol);
      assert.equal(applyTextEdits(text, [deleteLines(t, 1, 2)]), ['a', 'd'].join(eol) + eol);
    });
  }
  it('handles a last line without a newline', () => {
    const text = 'a\nb\nc';
    const t = doc(text);
    assert.equal(applyTextEdits(text, [deleteLines(t, 2, 2)]), 'a\nb');
    assert.equal(applyTextEdits(text, moveLines(t, 0, 0, { after: 2 })), 'b\nc\na');
    assert.equal(applyTextEdits(text, moveLines(t, 2, 2, { before: 0 })), 'c\na\nb');
    assert.equal(applyTextEdits(text, [insertAfter(t, 2, ['d'])]), 'a\nb\nc\nd');
  });
});

describe('tokens', () => {
  it('finds the word under the cursor, bounded by list separators', () => {
    const line = '-A INPUT -s 10.0.0.0/8,192.168.0.0/16 -p tcp -m multiport --dports 80,443 -j ACCEPT';
    assert.equal(wordAt(line, 0, line.indexOf('192.168') + 3)?.text, '192.168.0.0/16');
    assert.equal(wordAt(line, 0, line.indexOf('443'))?.text, '443');
    assert.equal(wordAt(line, 0, line.indexOf('ACCEPT') + 6)?.text, 'ACCEPT');
    assert.ok(looksLikeAddress('10.0.0.0/8') && looksLikeAddress('2001:db8::/32') && looksLikeAddress('::/0'));
    assert.ok(!looksLikeAddress('80') && !looksLikeAddress('INPUT') && !looksLikeAddress('1:2'));
  });
  it('reads CIDRs out of comments', () => {
    assert.deepEqual(cidrsIn('block scanner range 192.0.2.0/24 and 2001:db8::/32, not 1.2.3'), ['192.0.2.0/24', '2001:db8::/32']);
    assert.deepEqual(cidrsIn('nothing here 10:30'), []);
  });
  it('expands snippets to their defaults', () => {
    assert.equal(snippetText(' -s ${1:192.0.2.0/24}$0'), ' -s 192.0.2.0/24');
  });
});

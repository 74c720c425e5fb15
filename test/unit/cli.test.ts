// The fwlens command line as a user and CI meet it: the built dist/cli.js, real files, exit codes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'fwlens-cli-'));

before(() => {
  if (!existsSync(cli)) {
    const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});

function fwlens(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const CLEAN = ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
  '-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT', 'COMMIT', ''].join('\n');

test('check: the outage example is an error on the DROP line, with the rules it hides, exit 1', () => {
  const r = fwlens('check', 'examples/outage.rules');
  assert.equal(r.code, 1);
  assert.match(r.out, /^examples\/outage\.rules:9:1: error catch-all-drop /m);
  assert.match(r.out, /note: never reached: line 11 \(-A INPUT -s 203\.0\.113\.0\/24/);
});

test('check: a clean file exits 0; --fail-on decides which severities fail', () => {
  assert.equal(fwlens('check', file('clean.rules', CLEAN)).code, 0);
  const warn = file('warn.rules', CLEAN.replace('-s 10.0.0.0/8 ', ''));
  assert.equal(fwlens('check', warn).code, 0, 'a warning does not fail by default');
  assert.equal(fwlens('check', '--fail-on', 'warning', warn).code, 1);
});

test('check --format json: an array of findings with 0-based LSP ranges', () => {
  const r = fwlens('check', '--format', 'json', 'examples/outage.rules');
  const out = JSON.parse(r.out) as { file: string; range: { start: { line: number; character: number } }; severity: string; code: string; message: string }[];
  const ca = out.find((f) => f.code === 'catch-all-drop');
  assert.ok(ca);
  assert.equal(ca.file, 'examples/outage.rules');
  assert.equal(ca.range.start.line, 8);
  assert.equal(ca.range.start.character, 0);
  assert.equal(ca.severity, 'error');
});

test('check --format sarif: SARIF 2.1.0 with 1-based regions and rule ids', () => {
  const r = fwlens('check', '--format', 'sarif', 'examples/outage.rules');
  const s = JSON.parse(r.out);
  assert.equal(s.version, '2.1.0');
  const res = s.runs[0].results.find((x: { ruleId: string }) => x.ruleId === 'catch-all-drop');
  assert.equal(res.level, 'error');
  assert.equal(res.locations[0].physicalLocation.region.startLine, 9);
  assert.ok(s.runs[0].tool.driver.rules.some((x: { id: string }) => x.id === 'catch-all-drop'));
});

test('unreadable input: missing file, directory, binary file, unknown format all exit 2 with a message', () => {
  mkdirSync(join(dir, 'adir'), { recursive: true });
  for (const [args, msg] of [
    [['check', join(dir, 'nope.rules')], /no such file/],
    [['check', join(dir, 'adir')], /is a directory/],
    [['check', file('bin.rules', Buffer.from([0x2a, 0x00, 0x01, 0x02]))], /binary/],
    [['check', file('notes.txt', 'hello world\n')], /cannot tell/],
    [['check', '--format', 'xml', 'examples/outage.rules'], /--format/],
    [['frobnicate'], /unknown command/],
  ] as const) {
    const r = fwlens(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, msg);
  }
});

test('query: verdict, deciding line and trace, as text and JSON', () => {
  const f = file('q.rules', CLEAN);
  const j = JSON.parse(fwlens('query', f, '--src', '10.1.2.3', '--dst', '192.0.2.1', '--proto', 'tcp', '--dport', '22', '--format', 'json').out);
  assert.equal(j.verdict, 'accept');
  assert.equal(j.range.start.line, 5);
  assert.deepEqual(j.trace.map((t: { line: number }) => t.line), [6]);
  const p = JSON.parse(fwlens('query', f, '--src', '11.1.2.3', '--dst', '192.0.2.1', '--proto', 'tcp', '--dport', '22', '--format', 'json').out);
  assert.equal(p.verdict, 'drop');
  assert.equal(p.rule, null);
  assert.equal(p.range.start.line, 1, 'the policy declaration decides');
  const t = fwlens('query', f, '--src', '10.1.2.3', '--dst', '192.0.2.1', '--proto', 'tcp', '--dport', '22', '--state', 'ESTABLISHED');
  assert.match(t.out, /^ACCEPT .*line 5/);
});

test('query: a tcp packet without --dport is refused with a clear error', () => {
  const r = fwlens('query', file('q2.rules', CLEAN), '--src', '10.1.2.3', '--dst', '192.0.2.1', '--proto', 'tcp');
  assert.equal(r.code, 2);
  assert.match(r.err, /--dport/);
});

test('query --packets: one JSON answer a line, in order, errors in place', () => {
  const f = file('q3.rules', CLEAN);
  const packets = file('p.jsonl', [
    JSON.stringify({ src: '10.0.0.1', dst: '192.0.2.1', proto: 'tcp', dport: 22 }),
    JSON.stringify({ src: '8.8.8.8', dst: '192.0.2.1', proto: 'udp', dport: 53 }),
    'not json',
    JSON.stringify({ src: '8.8.8.8', dst: '192.0.2.1', proto: 'tcp', dport: 80, state: 'ESTABLISHED' }),
  ].join('\n'));
  const lines = fwlens('query', f, '--packets', packets).out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  assert.deepEqual(lines.map((l) => l.verdict ?? 'error'), ['accept', 'drop', 'error', 'accept']);
  assert.equal(lines[3].range.start.line, 4);
});

test('explain: the range split into parts with verdicts and deciding lines', () => {
  const f = file('e.rules', CLEAN);
  const e = JSON.parse(fwlens('explain', f, '--cidr', '10.0.0.0/8', '--format', 'json').out);
  assert.equal(e.cidr, '10.0.0.0/8');
  const accept = e.parts.filter((p: { verdict: string }) => p.verdict === 'accept').map((p: { line: number }) => p.line);
  assert.deepEqual(accept.sort(), [5, 6]);
  assert.ok(e.parts.some((p: { verdict: string; line: number | null }) => p.verdict === 'drop' && p.line === null));
  const h = JSON.parse(fwlens('explain', f, '--cidr', '10.0.0.1/8', '--format', 'json').out);
  assert.equal(h.hostBits, '10.0.0.0/8');
});

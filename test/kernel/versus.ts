// The last step of both kernel suites: every loaded ruleset's packets through
// `fwlens query --packets`, each answer held against what the kernel did. The suites say what
// counts as agreeing and how a disagreement reads; this runs fwlens and keeps the tally.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from './kernel';
import { packetLines } from './report';

/** One line of `fwlens query --packets` output. */
export interface EngineAnswer {
  verdict?: string;
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  rule?: string | null;
  error?: string;
}

interface VersusCase {
  index: number;
  packets: { spec: unknown }[];
  loadError?: string;
}

export interface Versus<C extends VersusCase> {
  cli: string;
  cases: C[];
  tmpPrefix: string;
  /** fwlens processes at a time. */
  parallel: number;
  /** The ruleset's file name (fwlens tells the format by it) and text. */
  input(c: C): { name: string; text: string };
  /** How messages name the ruleset: `ruleset 3 (rules.v4)`. */
  label(c: C): string;
  /** The kernel's answer for packet i is harness trouble (the self-check reports it): not compared. */
  skip(c: C, i: number): boolean;
  agrees(c: C, i: number, e: EngineAnswer): boolean;
  /** A disagreement: the artefact's entry, and the message's text after `packet i: `. */
  mismatch(c: C, i: number, e: EngineAnswer, fwlens: string): { entry: unknown; text: string };
  writeArtifact(c: C, name: string, data: unknown, engineOut?: string): string;
  /** For the "details in" messages. */
  relative(dir: string): string;
}

export interface Tally {
  compared: number;
  wrong: number;
  unanswered: number;
  failedRulesets: number;
  /** The first messages of what went wrong, for the assertion. */
  mismatches: string[];
  engineMs: number;
}

/** "N packets compared in M rulesets, K mismatches", and the rulesets fwlens failed on. */
export function tallyLine(t: Tally, rulesets: number): string {
  return `${t.compared} packets compared in ${rulesets - t.failedRulesets} rulesets, ${t.wrong} mismatches` +
    (t.failedRulesets ? `; fwlens failed outright on ${t.failedRulesets} rulesets (${t.unanswered} packets)` : '');
}

export async function versusFwlens<C extends VersusCase>(v: Versus<C>): Promise<Tally> {
  const t: Tally = { compared: 0, wrong: 0, unanswered: 0, failedRulesets: 0, mismatches: [], engineMs: 0 };
  const tmp = mkdtempSync(path.join(os.tmpdir(), v.tmpPrefix));
  try {
    const todo = v.cases.filter((c) => !c.loadError);
    const outputs = new Map<C, Awaited<ReturnType<typeof run>>>();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: v.parallel }, async () => {
      while (next < todo.length) {
        const c = todo[next++];
        const dir = path.join(tmp, String(c.index));
        mkdirSync(dir);
        const { name, text } = v.input(c);
        writeFileSync(path.join(dir, name), text);
        writeFileSync(path.join(dir, 'packets.jsonl'), packetLines(c.packets));
        outputs.set(c, await run(process.execPath, [v.cli, 'query', path.join(dir, name), '--packets', path.join(dir, 'packets.jsonl')]));
      }
    }));
    t.engineMs = performance.now() - t0;
    for (const c of todo) compareCase(v, c, outputs.get(c)!, t);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return t;
}

function compareCase<C extends VersusCase>(v: Versus<C>, c: C, r: Awaited<ReturnType<typeof run>>, t: Tally): void {
  const lines = r.stdout.split('\n').filter((l) => l.trim());
  if (r.status !== 0 || lines.length !== c.packets.length) {
    t.unanswered += c.packets.length;
    t.failedRulesets++;
    const stderr = r.stderr.trim();
    const why = (/^\w*Error: .*$/m.exec(stderr) ?? [stderr.split('\n').pop() ?? ''])[0].slice(0, 300);
    const msg = `${v.label(c)}: fwlens exit ${r.status}, ${lines.length} answers for ${c.packets.length} packets: ${why}`;
    if (t.mismatches.length < 40) t.mismatches.push(msg);
    v.writeArtifact(c, 'fwlens-mismatches.json', { error: msg, stderr }, r.stdout);
    return;
  }
  const bad: unknown[] = [];
  c.packets.forEach((_p, i) => {
    if (v.skip(c, i)) return;
    t.compared++;
    let e: EngineAnswer;
    try {
      e = JSON.parse(lines[i]) as EngineAnswer;
    } catch {
      e = { error: `not JSON: ${lines[i]}` };
    }
    if (!e.error && v.agrees(c, i, e)) return;
    t.wrong++;
    const eLine = e.range?.start?.line;
    const fw = e.error ? `error: ${e.error}` : `${e.verdict} by line ${eLine === undefined ? '?' : eLine + 1}: ${e.rule ?? '(policy)'}`;
    const { entry, text } = v.mismatch(c, i, e, fw);
    bad.push(entry);
    if (t.mismatches.length < 25) t.mismatches.push(`${v.label(c)} packet ${i}: ${text}`);
  });
  if (bad.length) {
    const d = v.writeArtifact(c, 'fwlens-mismatches.json', bad, r.stdout);
    if (t.mismatches.length < 40) t.mismatches.push(`  (ruleset ${c.index}: ${bad.length} mismatches, details in ${v.relative(d)})`);
  }
}

// Parse differential against nft itself: `nft -c -f FILE` in a private network namespace (so the
// host's ruleset is neither read nor touched) decides whether a ruleset is valid; our loader
// must agree on accept/reject, and when nft reports an error, one of ours must be on the same
// line. Inputs: the real-world corpus, seeded generated rulesets, and mutations of them.
// Needs root and nft; skipped otherwise. Knobs: NFT_DIFF_SEED, NFT_DIFF_COUNT, NFT_DIFF_VERBOSE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadNftables } from '../../server/src/syntax/nftables/lower';
import { generate, mutate } from './nftables-gen';

interface Case { name: string; text: string; origin: string }
interface NftResult { ok: boolean; errorLines: number[]; output: string }

function canRun(): boolean {
  if (process.getuid?.() !== 0) return false;
  const v = spawnSync('nft', ['--version']);
  if (v.status !== 0) return false;
  return spawnSync('unshare', ['-n', 'true']).status === 0;
}

/** Runs `nft -c -f` on many files in one private namespace (one unshare per batch). */
function runNft(files: string[], retry = true): Map<string, NftResult> {
  const out = new Map<string, NftResult>();
  const script = 'for f in "$@"; do echo "@@@ $f"; nft -c -f "$f" 2>&1; echo "@@@ rc $?"; done';
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200);
    const r = spawnSync('unshare', ['-n', 'sh', '-c', script, 'sh', ...batch], { encoding: 'utf8', maxBuffer: 64 << 20 });
    let cur: string | undefined;
    let buf: string[] = [];
    for (const line of r.stdout.split('\n')) {
      const start = /^@@@ (\/.*)$/.exec(line);
      const end = /^@@@ rc (\d+)$/.exec(line);
      if (end && cur) {
        const output = buf.join('\n');
        const base = path.basename(cur);
        const errorLines: number[] = [];
        for (const l of buf) {
          const m = /^(.*?):(\d+):\d+-\d+: Error:/.exec(l);
          if (m && path.basename(m[1]) === base) errorLines.push(Number(m[2]));
        }
        out.set(cur, { ok: end[1] === '0', errorLines, output });
        cur = undefined;
        buf = [];
      } else if (start && !start[1].startsWith('rc ')) {
        cur = start[1];
        buf = [];
      } else buf.push(line);
    }
  }
  // A transient failure of the sandbox (file table full) would be no verdict on the file: run
  // such files once more, alone.
  const flaky = [...out].filter(([, r]) => /Too many open files|Cannot allocate memory/.test(r.output)).map(([f]) => f);
  if (flaky.length && retry) for (const [f, r] of runNft(flaky, false)) out.set(f, r);
  return out;
}

function corpusCases(): Case[] {
  const dir = path.join(process.env.FWLENS_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus'), 'nftables');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().map((f) => ({ name: `corpus-${f}`, text: readFileSync(path.join(dir, f), 'utf8'), origin: `corpus ${f}` }));
}

test('nft -c -f and fwlens agree on what parses (corpus, generated, mutated)', { timeout: 120_000 }, (t) => {
  if (!canRun()) {
    t.skip('needs root and nft');
    return;
  }
  const seed = Number(process.env.NFT_DIFF_SEED ?? 1);
  const count = Number(process.env.NFT_DIFF_COUNT ?? 300);
  const cases: Case[] = corpusCases();
  // Mutations of the real files too: their syntax is richer than the generator's.
  for (const c of [...cases]) {
    for (let k = 0; k < 20; k++) {
      const m = mutate(c.text, seed * 7 + k);
      if (m.kind !== 'none') cases.push({ name: `${c.name}-mut${k}.nft`, text: m.text, origin: `mutate(${c.origin}, ${seed * 7 + k}) [${m.kind}]` });
    }
  }
  for (let i = 0; i < count; i++) {
    const s = seed * 100_003 + i;
    const g = generate(s);
    cases.push({ name: `gen-${s}.nft`, text: g, origin: `generate(${s})` });
    const m = mutate(g, s);
    if (m.kind !== 'none') cases.push({ name: `mut-${s}.nft`, text: m.text, origin: `mutate(generate(${s}), ${s}) [${m.kind}]` });
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'fwlens-nftdiff-'));
  try {
    const files = cases.map((c) => {
      const f = path.join(dir, c.name);
      writeFileSync(f, c.text);
      return f;
    });
    const t0 = Date.now();
    const nft = runNft(files);
    const nftMs = Date.now() - t0;
    const disagreements: string[] = [];
    let accepted = 0;
    let rejected = 0;
    let bothReject = 0;
    let lineMatches = 0;
    let allLinesMatch = 0;
    const byOrigin = { corpus: 0, gen: 0, mut: 0 };
    cases.forEach((c, i) => {
      const n = nft.get(files[i]);
      assert.ok(n, `no nft result for ${c.name}`);
      const ours = loadNftables(c.text, { path: files[i] });
      const errs = ours.findings.filter((f) => f.severity === 'error');
      const ourLines = new Set(errs.map((f) => f.range.start.line + 1));
      const weOk = errs.length === 0;
      if (n.ok) accepted++;
      else rejected++;
      let problem: string | undefined;
      if (n.ok !== weOk) problem = n.ok ? 'nft accepts, we reject' : 'nft rejects, we accept';
      else if (!n.ok) {
        bothReject++;
        const first = n.errorLines[0];
        if (first !== undefined && !ourLines.has(first)) problem = `nft's error is on line ${first}, ours on ${[...ourLines].join(', ')}`;
        else lineMatches++;
        if (n.errorLines.every((l) => ourLines.has(l))) allLinesMatch++;
      }
      if (problem) {
        byOrigin[c.name.startsWith('corpus') && !c.name.includes('-mut') ? 'corpus' : c.name.startsWith('gen') ? 'gen' : 'mut']++;
        const ourText = errs.map((f) => `  line ${f.range.start.line + 1}: ${f.message}`).join('\n') || '  (none)';
        disagreements.push(`--- ${c.origin}: ${problem}\n${c.text.trimEnd()}\n--- nft:\n${n.output.trim() || '(accepted)'}\n--- fwlens:\n${ourText}`);
      }
    });
    const summary = `${cases.length} rulesets (${accepted} accepted, ${rejected} rejected by nft, nft took ${nftMs} ms): ` +
      `${cases.length - disagreements.length} agree, ${disagreements.length} disagree (corpus ${byOrigin.corpus}, generated ${byOrigin.gen}, mutated ${byOrigin.mut}); ` +
      `of the ${bothReject} both reject, ours has an error on nft's first error line in ${lineMatches} and on all of nft's error lines in ${allLinesMatch}`;
    t.diagnostic(summary);
    const show = Number(process.env.NFT_DIFF_VERBOSE ?? 10);
    for (const d of disagreements.slice(0, show)) t.diagnostic(d);
    assert.equal(disagreements.length, 0, `${disagreements.length} disagreements with nft -c -f (first ones above)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Latency of the language server where users feel it, measured over the protocol (stdio, the
// bundled dist/server.js): fresh diagnostics after a one-line edit, hovers on CIDRs, and the
// server's peak memory. `npm run bench` calls benchLsp on a 10k-rule file.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { LspClient } from './lsp-client';

export interface LspBench {
  /** Median over the edits: didChange sent → publishDiagnostics for that version received. */
  diagnosticsAfterEditMs: number;
  /** The same for a new line typed in the middle of the file (every line below it moves). */
  diagnosticsAfterNewLineMs: number;
  hoverP50Ms: number;
  hoverP95Ms: number;
  /** Peak resident set of the server process (VmHWM). */
  serverRssMb: number;
  /** The first analysis of the file after didOpen. */
  openMs: number;
  edits: number;
  hovers: number;
}

const EDITS = 11;
const HOVERS = 100;
/** Between edits: longer than the server's burst window, so each edit is an isolated one. */
const PAUSE_MS = 300;

/** What the edits and hovers look for in each format. */
const FORMATS = {
  iptables: { port: /--dport \d+ -j/, portWord: '--dport ', rule: '-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 8443 -j ACCEPT', cidr: /-s (\d+\.\d+\.\d+\.\d+\/\d+)/, cidrWord: '-s ' },
  nftables: { port: /^\s+ip saddr .* dport \d+ (accept|drop)/, portWord: 'dport ', rule: '    ip saddr 198.51.100.0/24 tcp dport 8443 accept', cidr: /ip saddr (\d+\.\d+\.\d+\.\d+\/\d+)/, cidrWord: 'ip saddr ' },
};

export async function benchLsp(file: string, language: keyof typeof FORMATS = 'iptables'): Promise<LspBench> {
  const fmt = FORMATS[language];
  const text = readFileSync(file, 'utf8');
  const uri = pathToFileURL(path.resolve(file)).href;
  const client = new LspClient(['--stdio'], process.env.FWLENS_SERVER_NODE_ARGS ? process.env.FWLENS_SERVER_NODE_ARGS.split(' ') : []);
  try {
    await client.initialize();
    const t0 = performance.now();
    client.open(uri, text, language);
    await client.diagnostics(uri, { version: 1, timeoutMs: 120_000 });
    const openMs = performance.now() - t0;

    // One-line edits in the middle of the file: a port number changed and changed back.
    const lines = text.split('\n');
    const line = lines.findIndex((l, i) => i > lines.length / 2 && fmt.port.test(l));
    const col = lines[line].indexOf(fmt.portWord) + fmt.portWord.length;
    const original = /^\d+/.exec(lines[line].slice(col))![0];
    const times: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      await sleep(PAUSE_MS);
      const current = i % 2 === 0 ? original : '7777';
      const next = i % 2 === 0 ? '7777' : original;
      const from = client.published.length;
      const sent = performance.now();
      const v = client.change(uri, [{ range: { start: { line, character: col }, end: { line, character: col + current.length } }, text: next }]);
      const p = await client.diagnostics(uri, { version: v, from, timeoutMs: 120_000 });
      times.push(p.at - sent);
    }

    // A rule added in the middle (as Enter and typing make it), then removed again.
    const added = fmt.rule;
    const lineTimes: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      await sleep(PAUSE_MS);
      const at = { line, character: 0 };
      const change = i % 2 === 0
        ? { range: { start: at, end: at }, text: `${added}\n` }
        : { range: { start: at, end: { line: line + 1, character: 0 } }, text: '' };
      const from = client.published.length;
      const sent = performance.now();
      const v = client.change(uri, [change]);
      const p = await client.diagnostics(uri, { version: v, from, timeoutMs: 120_000 });
      lineTimes.push(p.at - sent);
    }
    if (EDITS % 2 === 1) {
      // Leave the text as it was, so that the hovers below find the addresses where they were.
      const v = client.change(uri, [{ range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, text: '' }]);
      await client.diagnostics(uri, { version: v, timeoutMs: 120_000 });
    }

    // Hovers on CIDRs spread over the file (after the last edit, the text is the original again
    // or one port different: addresses are where they were).
    const targets: { line: number; character: number }[] = [];
    const step = Math.max(1, Math.floor(lines.length / HOVERS));
    for (let l = 0; l < lines.length && targets.length < HOVERS; l += step) {
      const m = fmt.cidr.exec(lines[l]);
      if (m) targets.push({ line: l, character: m.index + fmt.cidrWord.length + 1 });
    }
    const hoverMs: number[] = [];
    for (const position of targets) {
      const t = performance.now();
      await client.request('textDocument/hover', { textDocument: { uri }, position });
      hoverMs.push(performance.now() - t);
    }
    const rss = vmHwmMb(client.proc.pid!);
    return {
      diagnosticsAfterEditMs: round(median(times)),
      diagnosticsAfterNewLineMs: round(median(lineTimes)),
      hoverP50Ms: round(quantile(hoverMs, 0.5)),
      hoverP95Ms: round(quantile(hoverMs, 0.95)),
      serverRssMb: round(rss),
      openMs: round(openMs),
      edits: times.length,
      hovers: hoverMs.length,
    };
  } finally {
    await client.shutdown();
  }
}

function vmHwmMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

// `node --import tsx test/lsp/bench-lsp.ts FILE` (or no FILE: a generated 10k-rule file).
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename)) {
  void (async () => {
    let file = process.argv[2];
    if (!file) {
      const { generateRules } = await import('./gen-rules');
      const { writeFileSync, mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      file = path.join(mkdtempSync(path.join(tmpdir(), 'fwlens-bench-')), 'big.rules');
      writeFileSync(file, generateRules(10_000));
    }
    console.log(JSON.stringify(await benchLsp(file), null, 2));
  })();
}

#!/usr/bin/env node
// fwlens: the command line (DESIGN.md, "Command line"). Wiring only: argv in, the document layer's
// answers out, exit codes 0 clean / 1 findings at or above --fail-on / 2 usage or unreadable input.
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeDocument, DocumentAnalysis, LanguageId } from './features/document';
import { atOrAbove, FileFindings, formatJson, formatSarif, formatText } from './features/report';
import { explainText, queryPacket, QueryAnswer, explainCidr } from './features/query';
import type { Severity } from './model/finding';
import type { PacketSpec } from './analysis/packet-spec';

const VERSION = '0.1.0';

class UsageError extends Error {}

const USAGE = `usage:
  fwlens check [--format text|json|sarif] [--fail-on error|warning|info] [--lang iptables|nftables] FILE...
  fwlens query FILE --src IP --dst IP [--proto P] [--sport N] [--dport N] [--icmp-type T]
               [--in IF] [--out IF] [--state S] [--chain NAME] [--format text|json]
  fwlens query FILE --packets PACKETS.jsonl      (one JSON packet a line; one JSON answer a line)
  fwlens explain FILE --cidr CIDR [--as src|dst] [--chain NAME] [--format text|json]
options for every command: --stats (time and peak memory on stderr), --help, --version`;

function main(argv: string[]): number {
  const started = process.hrtime.bigint();
  const [command, ...rest] = argv;
  let code: number;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE + '\n');
      return command ? 0 : 2;
    }
    if (command === '--version') {
      process.stdout.write(`fwlens ${VERSION}\n`);
      return 0;
    }
    const stats = rest.includes('--stats');
    const args = rest.filter((a) => a !== '--stats');
    if (command === 'check') code = check(args);
    else if (command === 'query') code = query(args);
    else if (command === 'explain') code = explain(args);
    else throw new UsageError(`unknown command '${command}'`);
    if (stats) {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      process.stderr.write(`fwlens: ${ms.toFixed(1)} ms, peak memory ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB\n`);
    }
    return code;
  } catch (e) {
    if (e instanceof UsageError || e instanceof InputError) {
      process.stderr.write(`fwlens: ${e.message}\n`);
      if (e instanceof UsageError) process.stderr.write(USAGE + '\n');
      return 2;
    }
    const err = e as { code?: string; message?: string };
    if (err && err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      process.stderr.write(`fwlens: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

class InputError extends Error {}

function readInput(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new InputError(`${file}: no such file`);
  }
  if (st.isDirectory()) throw new InputError(`${file}: is a directory`);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new InputError(`${file}: cannot read (${(e as Error).message})`);
  }
  if (buf.includes(0)) throw new InputError(`${file}: looks like a binary file, not a firewall configuration`);
  return buf.toString('utf8');
}

function load(file: string, lang?: string): DocumentAnalysis {
  if (lang !== undefined && lang !== 'iptables' && lang !== 'nftables') throw new UsageError(`--lang must be iptables or nftables`);
  const text = readInput(file);
  const doc = analyzeDocument(text, {
    fileName: file,
    language: lang as LanguageId | undefined,
    readFile: (p) => {
      try {
        return readFileSync(path.resolve(path.dirname(file), p), 'utf8');
      } catch {
        return undefined;
      }
    },
  });
  if ('error' in doc) throw new InputError(`${file}: ${doc.error}`);
  return doc;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], dflt: T): T {
  if (value === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function check(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string' }, 'fail-on': { type: 'string' }, lang: { type: 'string' } },
  });
  const format = oneOf('format', values.format, ['text', 'json', 'sarif'] as const, 'text');
  const failOn = oneOf('fail-on', values['fail-on'], ['error', 'warning', 'info'] as const, 'error') as Severity;
  if (!positionals.length) throw new UsageError('check needs at least one FILE');
  const results: FileFindings[] = positionals.map((file) => ({ file, findings: load(file, values.lang).findings }));
  const out = format === 'json' ? formatJson(results) : format === 'sarif' ? formatSarif(results, VERSION) : formatText(results, process.stdout.isTTY === true);
  process.stdout.write(out);
  return results.some((r) => r.findings.some((f) => atOrAbove(f.severity, failOn))) ? 1 : 0;
}

const PACKET_KEYS = ['src', 'dst', 'proto', 'sport', 'dport', 'icmp-type', 'in', 'out', 'state'] as const;

function query(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(PACKET_KEYS.map((k) => [k, { type: 'string' as const }])),
      chain: { type: 'string' }, group: { type: 'string' }, format: { type: 'string' }, packets: { type: 'string' }, lang: { type: 'string' },
    },
  });
  const v = values as Record<string, string | undefined>;
  if (positionals.length !== 1) throw new UsageError('query needs exactly one FILE');
  const format = oneOf('format', v.format, ['text', 'json'] as const, 'text');
  const doc = load(positionals[0], v.lang);
  const chain = v.chain ?? v.group;
  if (v.packets) {
    const lines = readInput(v.packets).split('\n');
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      let spec: PacketSpec;
      try {
        spec = JSON.parse(line) as PacketSpec;
      } catch {
        out.push(JSON.stringify({ error: `line ${i + 1}: not a JSON object` }));
        continue;
      }
      const a = queryPacket(doc, spec, chain);
      out.push(JSON.stringify('error' in a ? { error: `line ${i + 1}: ${a.error}` } : a));
    }
    process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
    return 0;
  }
  const spec: PacketSpec = { src: v.src, dst: v.dst, proto: v.proto, sport: v.sport, dport: v.dport, icmpType: v['icmp-type'], in: v.in, out: v.out, state: v.state };
  const a = queryPacket(doc, spec, chain);
  if ('error' in a) throw new InputError(a.error);
  process.stdout.write(format === 'json' ? JSON.stringify(a, null, 2) + '\n' : queryText(a));
  return 0;
}

function queryText(a: QueryAnswer): string {
  const lines = [`${a.verdict.toUpperCase()} — decided by ${a.rule ? `line ${a.range.start.line + 1}: ${a.rule}` : `${a.decidedBy}`}`];
  if (a.trace.length) {
    lines.push('trace:');
    for (const t of a.trace) lines.push(`  line ${t.line}: ${t.rule}${t.how === 'uncertain' ? '   (cannot be known here; assumed not to match)' : ''}`);
  }
  if (a.uncertain) lines.push('note: the verdict assumes that the conditions marked above do not hold');
  return lines.join('\n') + '\n';
}

function explain(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { cidr: { type: 'string' }, as: { type: 'string' }, chain: { type: 'string' }, format: { type: 'string' }, lang: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('explain needs exactly one FILE');
  if (!values.cidr) throw new UsageError('explain needs --cidr');
  const format = oneOf('format', values.format, ['text', 'json'] as const, 'text');
  const as = oneOf('as', values.as, ['src', 'dst'] as const, 'src');
  const doc = load(positionals[0], values.lang);
  const e = explainCidr(doc, values.cidr, as, values.chain);
  if ('error' in e) throw new InputError(e.error);
  process.stdout.write(format === 'json' ? JSON.stringify(e, null, 2) + '\n' : explainText(e));
  return 0;
}

process.exitCode = main(process.argv.slice(2));

// One document, from text to findings: which format it is, its parse, its policy and its analysis.
// Both shells (the language server and the CLI) start here, so they can never disagree.
import type { Policy } from '../model/policy';
import { DEFAULT_SEVERITY, Finding, FindingCode, Severity } from '../model/finding';
import { analyzePolicy, Analysis } from '../analysis/analyze';
import { loadIptables } from '../syntax/iptables/lower';
import { LineCache, newLineCache } from '../syntax/iptables/parser';
import type { CompileCache } from '../analysis/compile';
import { loadNftables } from '../syntax/nftables/lower';
import { LowerCache, newLowerCache } from '../syntax/nftables/lower-cache';

export type LanguageId = 'iptables' | 'nftables';

export interface Settings {
  /** Per code: off, or a severity that replaces the default. */
  codes: Partial<Record<FindingCode, { enabled?: boolean; severity?: Severity }>>;
  sensitivePorts?: number[];
  adminPorts?: number[];
  /** Source ranges the fixes narrow world-open and catch-all rules to. */
  trustedSources: string[];
}

export const DEFAULT_SETTINGS: Settings = { codes: {}, trustedSources: [] };

export interface DocumentAnalysis {
  language: LanguageId;
  policy: Policy;
  /** Parse, lowering and analysis findings with the settings applied, in document order. */
  findings: Finding[];
  analysis: Analysis;
  /** The syntax tree of the format (for symbols and folding); its shape depends on `language`. */
  file: unknown;
}

export interface LoadOptions {
  language?: LanguageId;
  fileName?: string;
  /** nftables `include`: the text of another file, or undefined when there is none. */
  readFile?: (path: string) => string | undefined;
  settings?: Settings;
  /** What the previous analysis of the same document keeps for this one (the language server's). */
  reuse?: Reuse;
}

/** Caches one document's analyses pass to the next; results are the same with or without them. */
export interface Reuse {
  /** iptables: the clean rule lines of the last parse. */
  lines: LineCache;
  /** nftables: the rules lowered from their own text alone. */
  lowered: LowerCache;
  compiled: CompileCache;
}

export function newReuse(): Reuse {
  return { lines: newLineCache(), lowered: newLowerCache(), compiled: { sets: new Map() } };
}

const NFT_NAMES = /(\.nft|(^|[/\\])nftables\.conf|(^|[/\\])nftables[/\\][^/\\]*\.conf)$/i;
const IPT_NAMES = /((^|[/\\])(rules\.v[46]|ip6?tables\.rules|user6?\.rules|before6?\.rules|after6?\.rules)|\.iptables|\.rules)$/i;

/** The format of a file by its name, else by its first meaningful line. */
export function detectLanguage(fileName: string | undefined, text: string): LanguageId | undefined {
  if (fileName && NFT_NAMES.test(fileName)) return 'nftables';
  if (fileName && IPT_NAMES.test(fileName)) return 'iptables';
  for (const raw of text.split('\n', 200)) {
    const line = raw.trim();
    if (!line || (line.startsWith('#') && !line.startsWith('#!'))) continue;
    if (/^#!.*\bnft\b/.test(line)) return 'nftables';
    if (/^(\*[a-z]+|:[^\s]+\s|-A\s|-I\s|-N\s|-P\s|COMMIT$|\[\d+:\d+\])/.test(line)) return 'iptables';
    if (/^(table|flush|define|include|add|insert|create|delete|list)\b/.test(line)) return 'nftables';
    return undefined;
  }
  return undefined;
}

/** IPv6 by the file's name (rules.v6, ip6tables.rules, user6.rules); otherwise the parser decides. */
function familyHint(fileName: string | undefined): 4 | 6 | undefined {
  if (!fileName) return undefined;
  if (/(rules\.v6|ip6tables|user6\.rules|before6\.rules|after6\.rules)$/i.test(fileName)) return 6;
  if (/(rules\.v4|(^|[/\\])iptables\.rules|user\.rules|before\.rules|after\.rules)$/i.test(fileName)) return 4;
  return undefined;
}

export function analyzeDocument(text: string, opts: LoadOptions = {}): DocumentAnalysis | { error: string } {
  const language = opts.language ?? detectLanguage(opts.fileName, text);
  if (!language) return { error: 'cannot tell whether this is an iptables-save or an nftables file (name it *.rules / *.nft, or give the language)' };
  const loaded = language === 'iptables'
    ? loadIptables(text, familyHint(opts.fileName), opts.reuse?.lines)
    : loadNftables(text, { path: opts.fileName, readFile: opts.readFile }, opts.reuse?.lowered);
  const settings = opts.settings ?? DEFAULT_SETTINGS;
  const analysis = analyzePolicy(loaded.policy, { sensitivePorts: settings.sensitivePorts, adminPorts: settings.adminPorts }, opts.reuse?.compiled);
  const findings = applySettings([...loaded.findings, ...analysis.findings], settings);
  findings.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  return { language, policy: loaded.policy, findings, analysis, file: loaded.file };
}

export function applySettings(findings: Finding[], settings: Settings): Finding[] {
  const out: Finding[] = [];
  for (const f of findings) {
    const c = settings.codes[f.code];
    if (c?.enabled === false) continue;
    out.push(c?.severity && c.severity !== f.severity ? { ...f, severity: c.severity } : f);
  }
  return out;
}

export { DEFAULT_SEVERITY };

// Findings as LSP diagnostics: the code, the tags, related information pointing into the same
// document, and `data` passed through so that code actions can act without re-analysing.
import { Diagnostic, DiagnosticSeverity, DiagnosticTag, DiagnosticRelatedInformation } from 'vscode-languageserver';
import type { Finding, Severity } from '../model/finding';

export const DIAGNOSTIC_SOURCE = 'fwlens';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export interface DiagnosticOptions {
  /** The client renders relatedInformation (else it is left out, the message already names lines). */
  relatedInformation?: boolean;
  /** The client understands DiagnosticTag.Unnecessary. */
  unnecessaryTag?: boolean;
  /** Base of a page per code, e.g. the README's anchor; no codeDescription when absent. */
  docsUrl?: (code: string) => string | undefined;
}

/** What a code action needs to find its finding again: the code is on the diagnostic already. */
export interface DiagnosticData {
  fwlens: true;
  [key: string]: unknown;
}

export function toDiagnostic(f: Finding, uri: string, opts: DiagnosticOptions = {}): Diagnostic {
  const d: Diagnostic = {
    range: f.range,
    severity: SEVERITY[f.severity],
    source: DIAGNOSTIC_SOURCE,
    code: f.code,
    message: f.message,
  };
  const href = opts.docsUrl?.(f.code);
  if (href) d.codeDescription = { href };
  if (f.unnecessary && opts.unnecessaryTag !== false) d.tags = [DiagnosticTag.Unnecessary];
  if (f.related?.length && opts.relatedInformation !== false) {
    d.relatedInformation = f.related.map((r) => DiagnosticRelatedInformation.create({ uri, range: r.range }, r.message));
  }
  d.data = { fwlens: true, ...(f.data ?? {}) } satisfies DiagnosticData;
  return d;
}

export function toDiagnostics(findings: readonly Finding[], uri: string, opts: DiagnosticOptions = {}): Diagnostic[] {
  return findings.map((f) => toDiagnostic(f, uri, opts));
}

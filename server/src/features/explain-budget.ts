// The walks behind hovers, under a deadline: a hover must answer in tens of milliseconds, so a walk
// that would take longer (0.0.0.0/0 through a 10k-rule chain) stops, and the hover says so instead
// of freezing the server. The engine's walk takes the deadline and keeps to the rules that can
// touch the traffic; here its parts are described for a reader.
import type { Entry, Rule } from '../model/policy';
import type { Box } from '../packets/boxes';
import { describeSet } from '../packets/describe';
import { explainSet, ExplainPart, reachingSet } from '../analysis/explain';
import { warmWalkIndexes } from '../analysis/analyze';
import type { DocumentAnalysis } from './document';

export type HoverPart = ExplainPart;

/** The explanation of `start` through `entry`, or undefined when it takes longer than `ms`. */
export function explainWithin(doc: DocumentAnalysis, entry: Entry, start: Box[], as: 'src' | 'dst' | undefined, ms: number): { parts: HoverPart[]; complete: boolean } | undefined {
  const { compiled, resolve } = doc.analysis;
  const e = explainSet(compiled, resolve, entry, start, as, { deadline: performance.now() + ms });
  return e.complete ? e : undefined;
}

/** What reaches a rule (of any kind) from an entry, or undefined when it takes longer than `ms`. */
export function reachingWithin(doc: DocumentAnalysis, entry: Entry, rule: Rule, ms: number): Box[] | undefined {
  const { compiled, resolve } = doc.analysis;
  const r = reachingSet(compiled, resolve, entry, rule, { deadline: performance.now() + ms });
  return r.complete ? r.set : undefined;
}

export function describeCapped(doc: DocumentAnalysis, set: Box[], as?: 'src' | 'dst', limit = 4): string {
  return describeSet(doc.analysis.compiled.space, set, { always: as ? [as] : [], limit });
}

/** Builds the walk indexes of every reachable chain while the editor is idle (the first hover is then fast). */
export function warmHoverIndexes(doc: DocumentAnalysis): void {
  warmWalkIndexes(doc.analysis);
}

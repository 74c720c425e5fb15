// The analysis of one policy: compile, find anomalies, and keep what hovers and queries need.
import type { Chain, Entry, Policy } from '../model/policy';
import type { Finding } from '../model/finding';
import { compilePolicy, CompileCache, Compiled } from './compile';
import { AnomalyOptions, ChainFacts, findAnomalies, reachableChains } from './anomalies';
import { chainResolver } from './evaluate';
import type { Resolve } from './reach';

export interface Analysis {
  policy: Policy;
  compiled: Compiled;
  resolve: Resolve;
  findings: Finding[];
  facts: Map<Chain, ChainFacts>;
}

/** `cache`: compiled sets kept from the analysis of an earlier version of the same document. */
export function analyzePolicy(policy: Policy, opts: AnomalyOptions = {}, cache?: CompileCache): Analysis {
  const compiled = compilePolicy(policy, cache);
  const resolve = chainResolver(policy);
  const { findings, facts } = findAnomalies(policy, compiled, resolve, opts);
  return { policy, compiled, resolve, findings, facts };
}

/**
 * Builds the indexes that walks (hovers, explain) use for every chain an entry reaches, so that the
 * first hover after an edit does not pay for them. The server calls it when the editor is idle.
 */
export function warmWalkIndexes(analysis: Analysis): void {
  for (const e of analysis.policy.entries) for (const c of reachableChains(e, analysis.resolve)) analysis.compiled.mayIndex(c);
}

/** The entry a user means by a chain name (any case), or the policy's default. */
export function pickEntry(policy: Policy, name?: string): Entry | undefined {
  const wanted = name ?? policy.defaultEntry;
  if (!wanted) return policy.entries[0];
  return policy.entries.find((e) => e.name === wanted) ?? policy.entries.find((e) => e.name.toLowerCase() === wanted.toLowerCase());
}

/** A user chain as an entry of its own (for `--chain MYCHAIN`): evaluated as if jumped to. */
export function chainAsEntry(policy: Policy, name: string): Entry | undefined {
  for (const t of policy.tables) {
    const c = t.chains.get(name);
    if (c) return { name, stages: [c], families: policy.families };
  }
  return undefined;
}

// A deadline for the walks behind hovers. The analysis walks are synchronous and bounded only by
// an operation count that can still mean seconds on a 10k-rule chain (0.0.0.0/0 meets every rule).
// A hover must answer in tens of milliseconds, so the walk gets a view of the compiled rule sets
// whose lookups check the clock and throw once the time is up; the walk then unwinds (it keeps no
// state outside itself) and the hover says it would take too long, instead of freezing the server.
import type { Rule } from '../model/policy';
import type { Compiled, RuleSets } from '../analysis/compile';

export class OverBudget extends Error {
  constructor() {
    super('over the time budget');
  }
}

/** `compiled` with lookups that throw OverBudget after `ms`; `swap` stands one rule in for another. */
export function budgeted(compiled: Compiled, ms: number, swap?: { stand: Rule; for: Rule }): Compiled {
  const deadline = performance.now() + ms;
  const base = compiled.sets;
  let calls = 0;
  const sets = new (class extends Map<Rule, RuleSets> {
    override get(k: Rule): RuleSets | undefined {
      if ((++calls & 15) === 0 && performance.now() > deadline) throw new OverBudget();
      return base.get(swap && k === swap.stand ? swap.for : k);
    }
  })();
  return { ...compiled, sets };
}

/** Runs `f`; `fallback` when it ran out of time. */
export function within<T>(f: () => T, fallback: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OverBudget) return fallback();
    throw e;
  }
}

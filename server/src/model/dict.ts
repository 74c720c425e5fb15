// Lookup tables keyed by words from the file must not inherit Object.prototype: a word such as
// `constructor` or `toString` would otherwise find a function instead of nothing.

/** A copy of `entries` without a prototype. */
export function dict<T>(entries: Record<string, T>): Record<string, T | undefined> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

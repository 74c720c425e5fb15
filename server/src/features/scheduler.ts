// When to analyse a document after it changed. An edit after a quiet spell is analysed almost at
// once (a few ms, to take in the rest of a batch of changes); edits in a burst (typing) wait until
// the document has been quiet for `quietMs`, so the server does not analyse every keystroke.
// Pure timing: it knows nothing about LSP or analyses, only keys and callbacks.

export interface SchedulerOptions {
  /** Quiet time that ends a burst of edits. */
  quietMs: number;
  /** Delay for an isolated edit (collects the didChange messages that arrive together). */
  leadingMs: number;
}

export const DEFAULT_SCHEDULE: SchedulerOptions = { quietMs: 120, leadingMs: 4 };

export class Debouncer<K> {
  private readonly timers = new Map<K, ReturnType<typeof setTimeout>>();
  private readonly lastChange = new Map<K, number>();

  constructor(private readonly run: (key: K) => void, private readonly opts: SchedulerOptions = DEFAULT_SCHEDULE, private readonly now: () => number = () => performance.now()) {}

  /** A change to `key`: (re)start its timer. */
  changed(key: K): void {
    const t = this.now();
    const last = this.lastChange.get(key);
    this.lastChange.set(key, t);
    const inBurst = last !== undefined && t - last < this.opts.quietMs;
    this.arm(key, inBurst ? this.opts.quietMs : this.opts.leadingMs);
  }

  /** Run now if something is pending (a request needs the result). */
  flush(key: K): boolean {
    const timer = this.timers.get(key);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.timers.delete(key);
    this.run(key);
    return true;
  }

  pending(key: K): boolean {
    return this.timers.has(key);
  }

  cancel(key: K): void {
    const timer = this.timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(key);
    this.lastChange.delete(key);
  }

  private arm(key: K, ms: number): void {
    const old = this.timers.get(key);
    if (old !== undefined) clearTimeout(old);
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      this.run(key);
    }, ms));
  }
}

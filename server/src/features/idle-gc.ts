// Gives memory back when the server is idle. Each analysis of a 10k-rule file leaves tens of MB of
// garbage, and V8 collects its old generation lazily (its default limit is gigabytes), so a server
// that re-analyses on every edit would grow towards that limit before the first full collection.
// A full collection when nothing has happened for a moment keeps the resident size near the live
// data, and happens where nobody waits for it.
//
// But a forced collection also drops the shapes (maps) that only garbage had, and with them the
// optimised code that checks for them ("weak objects" deoptimisations): re-analysing a 10k-rule
// nftables file after one took ~270 ms instead of ~150, with 1,400 functions optimised again
// instead of 300. So it is kept for real idleness (seconds without an edit or a request), and while
// the user is editing, V8's own collections keep the heap in check: `boundHeapGrowth` makes them
// come before the heap has doubled, without the forced collection's loss of code.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = () => void;

let gc: Gc | undefined;

function collector(): Gc | undefined {
  if (gc) return gc;
  try {
    // `--expose-gc` set at run time makes `gc` visible in contexts created afterwards.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
  } catch {
    gc = undefined;
  }
  return gc;
}

/**
 * V8 lets the old generation grow by a factor of up to 4 between its own collections; a server
 * that re-analyses a large file on every edit would then sit far above its live data.
 */
export function boundHeapGrowth(percent = 60): void {
  try {
    setFlagsFromString(`--heap-growing-percent=${percent}`);
  } catch {
    // an engine without the flag grows as it likes
  }
}

export class IdleCollector {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dirty = false;

  constructor(private readonly idleMs = 5000) {}

  /** Garbage was made (an analysis replaced another): collect once things are quiet. */
  garbage(): void {
    this.dirty = true;
    this.activity();
  }

  /** Something happened (a change, a request): postpone the collection. */
  activity(): void {
    if (!this.dirty) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dirty = false;
      collector()?.();
    }, this.idleMs);
    this.timer.unref?.();
  }
}

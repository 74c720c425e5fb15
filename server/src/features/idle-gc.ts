// Gives memory back when the server is idle. Each analysis of a 10k-rule file leaves tens of MB of
// garbage, and V8 collects its old generation lazily (its default limit is gigabytes), so a server
// that re-analyses on every edit would grow towards that limit before the first full collection.
// A full collection when nothing has happened for a moment keeps the resident size near the live
// data, and happens where nobody waits for it.
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

export class IdleCollector {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dirty = false;

  constructor(private readonly idleMs = 250) {}

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

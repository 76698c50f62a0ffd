// The last ledger height whose events the node fully processed, kept on disk so the watcher
// resumes after it across restarts and outages.
import { join } from "node:path";
import { readJson, writeFileAtomic } from "../runtime/index.js";

export class Cursor {
  private readonly path: string;
  private height: number | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.path = join(dataDir, "cursor.json");
  }

  async load(): Promise<number | null> {
    const c = await readJson<{ height: number }>(this.path);
    this.height = c && Number.isInteger(c.height) ? c.height : null;
    return this.height;
  }

  get(): number | null {
    return this.height;
  }

  /** Persist `height` (monotonic: an older height never overwrites a newer one). */
  set(height: number): Promise<void> {
    if (this.height !== null && height <= this.height) return this.writing;
    this.height = height;
    this.writing = this.writing.catch(() => {}).then(() => writeFileAtomic(this.path, JSON.stringify({ height })));
    return this.writing;
  }
}

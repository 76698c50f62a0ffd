// What every page is: it renders itself into <main> and may react to a live update (re-reading
// only when something it shows changed).
import type { LiveUpdate } from "../api.js";

export interface Page {
  title: string;
  render(main: HTMLElement): Promise<void>;
  /** Called for each live update while the page is shown. */
  onUpdate?(u: LiveUpdate, main: HTMLElement): void | Promise<void>;
}

/**
 * What a `.vscan` file contributes to the library: its events and its Scene paragraphs, read
 * from the language service's own parse (one owner per fact: no second parser here).
 */
import type { VscanDocument } from '../language';

/** One searchable thing in a `.vscan`: an event line or a Scene paragraph. */
export interface LibraryEntry {
  kind: 'event' | 'scene';
  /** 0-based line of the event, or of `Scene…:`. */
  line: number;
  /** Seconds; a Scene paragraph spans its window, or its events, or nothing (0 – 0). */
  start: number;
  end: number;
  /** The event's description or the Scene paragraph. */
  text: string;
}

/** Most entries one file contributes: a generated 2 MB file holds ~40,000 events; more would only crowd the index. */
export const MAX_ENTRIES_PER_FILE = 50_000;

/** The events (with both times) and non-empty Scene paragraphs of a parse, in document order, capped. */
export function libraryEntries(doc: VscanDocument, max = MAX_ENTRIES_PER_FILE): LibraryEntry[] {
  const entries: LibraryEntry[] = [];
  for (const block of doc.blocks) {
    const text = block.text.trim();
    if (!text) continue;
    const timed = block.events.filter((e) => e.startValue !== undefined && e.endValue !== undefined);
    const start = block.window?.startValue ?? (timed.length ? Math.min(...timed.map((e) => e.startValue!)) : 0);
    const end = block.window?.endValue ?? (timed.length ? Math.max(...timed.map((e) => e.endValue!)) : 0);
    entries.push({ kind: 'scene', line: block.line, start, end, text });
  }
  for (const event of doc.events) {
    if (entries.length >= max) break;
    const description = event.description.trim();
    if (event.startValue === undefined || event.endValue === undefined || !description) continue;
    entries.push({ kind: 'event', line: event.line, start: event.startValue, end: event.endValue, text: description });
  }
  return entries;
}

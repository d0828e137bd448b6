/** Finding things by position: the block and events of a line, the token under the cursor. */
import type { Position, Range } from 'vscode-languageserver-types';
import type { EventEntry, SceneBlock, TimeToken, VscanDocument } from './document';

export function contains(range: Range, position: Position): boolean {
  const { start, end } = range;
  if (position.line < start.line || position.line > end.line) return false;
  if (position.line === start.line && position.character < start.character) return false;
  if (position.line === end.line && position.character > end.character) return false;
  return true;
}

/**
 * Index of the first item on `line` or later, in items sorted by line (a document's events
 * or blocks, the preview's timeline events): binary search.
 */
export function firstAtOrAfterLine(items: readonly { line: number }[], line: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid].line < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function eventsOnLine(doc: VscanDocument, line: number): EventEntry[] {
  const out: EventEntry[] = [];
  for (let i = firstAtOrAfterLine(doc.events, line); i < doc.events.length && doc.events[i].line === line; i++) {
    out.push(doc.events[i]);
  }
  return out;
}

/** The last event before `line`, if any. */
export function eventBefore(doc: VscanDocument, line: number): EventEntry | undefined {
  const index = firstAtOrAfterLine(doc.events, line) - 1;
  return index >= 0 ? doc.events[index] : undefined;
}

/** The Scene block a line belongs to (the last one starting at or before it). */
export function blockAt(doc: VscanDocument, line: number): SceneBlock | undefined {
  const index = firstAtOrAfterLine(doc.blocks, line + 1) - 1;
  return index >= 0 ? doc.blocks[index] : undefined;
}

export interface TimeAt {
  token: TimeToken;
  /** The event the time belongs to; undefined for a Scene window. */
  event?: EventEntry;
  block: SceneBlock;
}

export function timeAt(doc: VscanDocument, position: Position): TimeAt | undefined {
  for (const event of eventsOnLine(doc, position.line)) {
    for (const token of [event.start, event.end]) {
      if (contains(token.range, position)) return { token, event, block: event.block };
    }
  }
  const block = blockAt(doc, position.line);
  if (block?.window && block.line === position.line) {
    for (const token of [block.window.start, block.window.end]) {
      if (contains(token.range, position)) return { token, block };
    }
  }
  return undefined;
}

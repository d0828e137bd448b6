/**
 * Timeline geometry, shared by the webview (drawing) and the extension (sync): lanes for
 * overlapping events, and the event playing at a time, by binary search.
 */
import type { TimelineEvent } from './messages';

/** Assigns each event the first lane where it does not overlap the previous one (touching is fine). */
export function assignLanes(events: readonly TimelineEvent[]): { lanes: number[]; count: number } {
  const order = events.map((_, i) => i).sort((a, b) => events[a].start - events[b].start || events[a].end - events[b].end);
  const laneEnds: number[] = [];
  const lanes = new Array<number>(events.length);
  for (const i of order) {
    const e = events[i];
    let lane = laneEnds.findIndex((end) => end <= e.start);
    if (lane < 0) {
      lane = laneEnds.length;
      laneEnds.push(e.end);
    } else laneEnds[lane] = e.end;
    lanes[i] = lane;
  }
  return { lanes, count: laneEnds.length };
}

/** Events sorted by start, for lookups by time. */
export interface TimeTable {
  starts: number[];
  events: TimelineEvent[];
}

export function timeTable(events: readonly TimelineEvent[]): TimeTable {
  const sorted = [...events].filter((e) => e.end >= e.start).sort((a, b) => a.start - b.start || a.line - b.line);
  return { starts: sorted.map((e) => e.start), events: sorted };
}

/**
 * The event playing at `seconds`: among events with start ≤ seconds < end, the one that
 * started last (binary search for the last start ≤ seconds, then back over overlaps).
 */
export function eventAt(table: TimeTable, seconds: number): TimelineEvent | undefined {
  let lo = 0;
  let hi = table.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (table.starts[mid] <= seconds) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0 && i >= lo - 64; i--) {
    const e = table.events[i];
    if (seconds < e.end || (e.start === e.end && seconds === e.start)) return e;
  }
  return undefined;
}

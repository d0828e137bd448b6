/**
 * The preview's timeline model, built by the language server from the one parse it keeps
 * per document version (the client runs no parser), and sent as differences: a keystroke
 * in a 100,000-event file changes one event, not the whole list.
 *
 * Pure and free of Node APIs: the webview bundles `applyTimelineDiff` too.
 */
import type { Diagnostic } from 'vscode-languageserver-types';
import type { VscanDocument } from './document';
import type { TimeStyle } from './time';

/** An event as the timeline draws it. */
export interface TimelineEvent {
  start: number;
  end: number;
  /** 0-based line in the .vscan document. */
  line: number;
  label: string;
  /** The worst diagnostic on the event's line: 1 error, 2 warning; 0 none (LSP severities). */
  problem: 0 | 1 | 2;
}

/** A `Scene <start - end>:` window. */
export interface TimelineScene {
  line: number;
  start: number;
  end: number;
}

/** How the document writes its times: playhead edits write new ones the same way. */
export interface TimeFormat {
  style: TimeStyle;
  fractionDigits: number;
}

/**
 * Replace `deleteCount` events at `start` by `events`; the events after them move by
 * `lineDelta` lines (a line inserted above shifts every later event without changing it).
 */
export interface TimelineDiff {
  start: number;
  deleteCount: number;
  events: TimelineEvent[];
  lineDelta: number;
}

/** The events with usable times, in document order, with their worst diagnostic. */
export function timelineEvents(doc: VscanDocument, diagnostics: readonly Diagnostic[]): TimelineEvent[] {
  const worst = new Map<number, 1 | 2>();
  for (const d of diagnostics) {
    if (d.severity !== 1 && d.severity !== 2) continue;
    const line = d.range.start.line;
    const previous = worst.get(line);
    if (previous === undefined || d.severity < previous) worst.set(line, d.severity);
  }
  const out: TimelineEvent[] = [];
  for (const e of doc.events) {
    if (e.startValue === undefined || e.endValue === undefined) continue;
    out.push({ start: e.startValue, end: e.endValue, line: e.line, label: e.description, problem: worst.get(e.line) ?? 0 });
  }
  return out;
}

export function timelineScenes(doc: VscanDocument): TimelineScene[] {
  const out: TimelineScene[] = [];
  for (const block of doc.blocks) {
    const w = block.window;
    if (w?.startValue !== undefined && w.endValue !== undefined) out.push({ line: block.line, start: w.startValue, end: w.endValue });
  }
  return out;
}

/**
 * The style most of the document's times are written in (ties and an empty file: the
 * `fallback` setting), and the fraction digits most of them carry (at least 1).
 */
export function documentTimeFormat(doc: VscanDocument, fallback: TimeStyle): TimeFormat {
  let clock = 0;
  let seconds = 0;
  const digitCounts = new Map<number, number>();
  // A sample is enough to know the habit; bounded so a huge file costs nothing here.
  const limit = Math.min(doc.events.length, 2000);
  for (let i = 0; i < limit; i++) {
    const token = doc.events[i].start;
    if (token.value === undefined) continue;
    if (token.text.includes(':')) clock++;
    else seconds++;
    digitCounts.set(token.fractionDigits, (digitCounts.get(token.fractionDigits) ?? 0) + 1);
  }
  let fractionDigits = 1;
  let best = 0;
  for (const [digits, count] of digitCounts) {
    if (count > best) {
      best = count;
      fractionDigits = Math.max(1, digits);
    }
  }
  const style = clock > seconds ? 'clock' : seconds > clock ? 'seconds' : fallback;
  return { style, fractionDigits };
}

function sameEvent(a: TimelineEvent, b: TimelineEvent, lineDelta: number): boolean {
  return a.start === b.start && a.end === b.end && a.line + lineDelta === b.line && a.problem === b.problem && a.label === b.label;
}

/** The smallest splice that turns `previous` into `next` (common head and tail kept). */
export function diffTimeline(previous: readonly TimelineEvent[], next: readonly TimelineEvent[], lineDelta: number): TimelineDiff {
  let head = 0;
  const shortest = Math.min(previous.length, next.length);
  while (head < shortest && sameEvent(previous[head], next[head], 0)) head++;
  let tail = 0;
  while (tail < shortest - head && sameEvent(previous[previous.length - 1 - tail], next[next.length - 1 - tail], lineDelta)) tail++;
  return { start: head, deleteCount: previous.length - head - tail, events: next.slice(head, next.length - tail), lineDelta: tail > 0 ? lineDelta : 0 };
}

/**
 * Keeps the problem marks of events that did not change, for a timeline made from a parse
 * without validation (a large file between saves): the common head and tail of `previous`
 * and `next` (same times, label and line, shifted by `lineDelta` in the tail) take their
 * previous marks; the changed middle has none until the next validation.
 */
export function carryProblems(previous: readonly TimelineEvent[], next: TimelineEvent[], lineDelta: number): TimelineEvent[] {
  const same = (a: TimelineEvent, b: TimelineEvent, delta: number) => a.start === b.start && a.end === b.end && a.line + delta === b.line && a.label === b.label;
  const shortest = Math.min(previous.length, next.length);
  let head = 0;
  for (; head < shortest && same(previous[head], next[head], 0); head++) next[head].problem = previous[head].problem;
  for (let tail = 0; tail < shortest - head; tail++) {
    const a = previous[previous.length - 1 - tail];
    const b = next[next.length - 1 - tail];
    if (!same(a, b, lineDelta)) break;
    b.problem = a.problem;
  }
  return next;
}

/**
 * Applies a diff; returns the updated list (the same array when the splice is small).
 * Events after the splice move by `lineDelta` (mutated: the list owns its events).
 */
export function applyTimelineDiff(events: TimelineEvent[], diff: TimelineDiff): TimelineEvent[] {
  const start = Math.min(Math.max(0, diff.start), events.length);
  // splice(...items) overflows the stack past ~100,000 arguments (a whole new file comes as one).
  const out = diff.events.length > 10_000
    ? events.slice(0, start).concat(diff.events, events.slice(start + diff.deleteCount))
    : (events.splice(start, diff.deleteCount, ...diff.events), events);
  if (diff.lineDelta !== 0) {
    for (let i = start + diff.events.length; i < out.length; i++) out[i].line += diff.lineDelta;
  }
  return out;
}

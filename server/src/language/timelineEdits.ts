/**
 * Edits made from the preview's playhead and timeline (Set Event Start/End, Insert Event
 * at Playhead, Insert as Event from Find, dragging a bar): written as the document writes
 * its times, clamped to the video, inserted in time order inside the right Scene window.
 * Each answer is one set of text edits, applied by the client as one undo step.
 */
import type { Position, TextEdit } from 'vscode-languageserver-types';
import type { DocumentContext } from './context';
import type { EventEntry, SceneBlock, TimeToken, VscanDocument } from './document';
import { eventsOnLine } from './navigation';
import { findHeader } from './parser';
import { formatTime, type TimeStyle } from './time';
import { documentTimeFormat, type TimeFormat } from './timeline';

/** What to change; times are seconds as the playhead or the timeline gives them. */
export type TimelineEditParams =
  /** The start or end of the event under the cursor (`character` picks among events on one line). */
  | { kind: 'setStart' | 'setEnd'; line: number; character: number; seconds: number }
  /** Both times of the event on `line` that now spans `from` (a dragged bar). */
  | { kind: 'retime'; line: number; from: { start: number; end: number }; start: number; end: number }
  /** A new event at `start` (to `end`, default one second later), in time order. */
  | { kind: 'insert'; start: number; end?: number; description?: string }
  /** Point the `Video:` header at `name` (added as the first line when there is none). */
  | { kind: 'linkVideo'; name: string };

export interface TimelineEditResult {
  edits: TextEdit[];
  /** Where the cursor goes after the edit (an inserted event: where its description is typed). */
  cursor?: Position;
  /** Why nothing was edited, in one line. */
  error?: string;
}

/** The usable duration: known, probed, and positive. */
function durationOf(context: DocumentContext): number | undefined {
  const d = context.video?.exists && !context.video.probeError ? context.video.durationSec : undefined;
  return d !== undefined && d > 0 ? d : undefined;
}

/** Rounds to the written precision and keeps the time inside [0, duration] (never past the end). */
function fit(seconds: number, digits: number, duration: number | undefined): number {
  const scale = 10 ** digits;
  let value = Math.round(Math.max(0, seconds) * scale) / scale;
  if (duration !== undefined && value > duration) value = Math.floor(duration * scale) / scale;
  return value;
}

function styleOf(token: TimeToken): TimeStyle {
  return token.text.includes(':') ? 'clock' : 'seconds';
}

/** A replacement for `token` written like it (its style, at least its precision). */
function rewrite(token: TimeToken, seconds: number, format: TimeFormat, duration: number | undefined): TextEdit {
  const digits = Math.max(1, token.fractionDigits, format.fractionDigits);
  return { range: token.range, newText: formatTime(fit(seconds, digits, duration), styleOf(token), digits) };
}

function eventUnder(doc: VscanDocument, line: number, character: number): EventEntry | undefined {
  const events = eventsOnLine(doc, line);
  return events.find((e) => character >= e.open && character <= e.contentEnd) ?? events[0];
}

/** The block a new event at `seconds` belongs in: the first whose Scene window holds it, else the last. */
function blockFor(doc: VscanDocument, seconds: number): SceneBlock | undefined {
  const windowed = doc.blocks.find((b) => b.window?.startValue !== undefined && b.window.endValue !== undefined
    && seconds >= b.window.startValue && seconds < b.window.endValue);
  return windowed ?? doc.blocks[doc.blocks.length - 1];
}

/** Where to insert a line for an event starting at `seconds`: after the last earlier-starting event of its block. */
function insertionLine(doc: VscanDocument, seconds: number): { afterLine: number; needsEventsLine: boolean } {
  const block = blockFor(doc, seconds);
  if (!block) return { afterLine: lastContentLine(doc), needsEventsLine: false };
  let after: number | undefined;
  for (const e of block.events) {
    if (e.startValue !== undefined && e.startValue <= seconds) after = e.line;
  }
  if (after !== undefined) return { afterLine: after, needsEventsLine: false };
  if (block.events.length > 0) return { afterLine: block.events[0].line - 1, needsEventsLine: false };
  if (block.eventsLine !== undefined) return { afterLine: block.eventsLine, needsEventsLine: false };
  return { afterLine: block.lastLine, needsEventsLine: true };
}

function lastContentLine(doc: VscanDocument): number {
  let line = doc.lines.length - 1;
  while (line > 0 && doc.lines[line].trim() === '') line--;
  return line;
}

function insertEvent(doc: VscanDocument, context: DocumentContext, format: TimeFormat, params: Extract<TimelineEditParams, { kind: 'insert' }>): TimelineEditResult {
  const duration = durationOf(context);
  const digits = format.fractionDigits;
  const step = 10 ** -digits;
  let start = fit(params.start, digits, duration);
  // At the very end there is no room for a span: start one step earlier.
  if (duration !== undefined && start >= duration) start = fit(duration - step, digits, duration);
  let end = fit(params.end ?? start + 1, digits, duration);
  if (end < start) end = start;
  const description = (params.description ?? '').replace(/[\r\n]+/g, ' ').trim();
  const span = `<${formatTime(start, format.style, digits)} - ${formatTime(end, format.style, digits)}>`;
  const text = description ? `${span} ${description}` : `${span} `;
  const { afterLine, needsEventsLine } = insertionLine(doc, start);
  const lines = needsEventsLine ? ['Events:', text] : [text];
  const cursorLine = afterLine + lines.length;
  if (afterLine < 0) {
    return { edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: lines.join(doc.eol) + doc.eol }], cursor: { line: lines.length - 1, character: text.length } };
  }
  if (afterLine + 1 < doc.lines.length) {
    const at = { line: afterLine + 1, character: 0 };
    return { edits: [{ range: { start: at, end: at }, newText: lines.join(doc.eol) + doc.eol }], cursor: { line: cursorLine, character: text.length } };
  }
  const lineEnd = { line: afterLine, character: doc.lines[afterLine].length };
  return { edits: [{ range: { start: lineEnd, end: lineEnd }, newText: doc.eol + lines.join(doc.eol) }], cursor: { line: cursorLine, character: text.length } };
}

/**
 * The edits for a playhead or timeline action. `fallbackStyle` (the `format.timeStyle`
 * setting) decides the style of new times only when the document has none to follow.
 */
export function timelineEdit(doc: VscanDocument, context: DocumentContext, fallbackStyle: TimeStyle, params: TimelineEditParams): TimelineEditResult {
  const format = documentTimeFormat(doc, fallbackStyle);
  const duration = durationOf(context);
  const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n);
  switch (params.kind) {
    case 'insert':
      if (!finite(params.start) || (params.end !== undefined && !finite(params.end))) return { edits: [], error: 'The time to insert at is not a number' };
      return insertEvent(doc, context, format, params);
    case 'setStart':
    case 'setEnd': {
      if (!finite(params.seconds)) return { edits: [], error: 'The playhead time is not a number' };
      const event = eventUnder(doc, params.line, params.character);
      if (!event) return { edits: [], error: `Line ${params.line + 1} has no event to set the ${params.kind === 'setStart' ? 'start' : 'end'} of` };
      const edit = rewrite(params.kind === 'setStart' ? event.start : event.end, params.seconds, format, duration);
      return { edits: [edit] };
    }
    case 'linkVideo': {
      const name = typeof params.name === 'string' ? params.name.replace(/[\r\n]+/g, ' ').trim() : '';
      if (!name) return { edits: [], error: 'No video name to link' };
      const header = findHeader(doc, 'video');
      const at = { line: 0, character: 0 };
      return { edits: [header ? { range: header.valueRange, newText: name } : { range: { start: at, end: at }, newText: `Video: ${name}${doc.eol}` }] };
    }
    case 'retime': {
      if (!finite(params.start) || !finite(params.end) || params.end < params.start) return { edits: [], error: 'The new span is not a valid span' };
      const events = eventsOnLine(doc, params.line);
      const event = events.find((e) => e.startValue === params.from.start && e.endValue === params.from.end) ?? (events.length === 1 ? events[0] : undefined);
      if (!event) return { edits: [], error: `The event on line ${params.line + 1} changed before the drag ended` };
      const edits = [rewrite(event.start, params.start, format, duration), rewrite(event.end, params.end, format, duration)]
        .filter((e) => e.newText !== doc.lines[params.line].slice(e.range.start.character, e.range.end.character));
      return { edits };
    }
  }
}

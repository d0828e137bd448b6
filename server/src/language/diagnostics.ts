/**
 * Validation of a parsed .vscan document. Linear in the number of events except the
 * overlap sweep, which sorts once (n log n).
 */
import { type Diagnostic, DiagnosticSeverity, type Range } from 'vscode-languageserver-types';
import type { DocumentContext } from './context';
import type { EventEntry, Span, VscanDocument } from './document';
import { findHeader } from './parser';
import { DEFAULT_SEVERITIES, type DiagnosticCode, type SeverityName, type VscanSettings } from './settings';
import { describeSeconds, formatTime } from './time';

/** Extra facts a diagnostic carries for its quick fixes (round-tripped through the client). */
export type DiagnosticData =
  | { kind: 'clamp'; durationSec: number }
  | { kind: 'overlap'; earlierEvent: number; laterEvent: number }
  | { kind: 'event'; event: number };

export const DIAGNOSTIC_SOURCE = 'vscan';

const SEVERITY: Record<Exclude<SeverityName, 'off'>, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** An event whose two times parsed. */
function timed<T extends Span>(event: T): event is T & { startValue: number; endValue: number } {
  return event.startValue !== undefined && event.endValue !== undefined;
}

function spanText(event: EventEntry): string {
  return `<${event.start.text} - ${event.end.text}>`;
}

class Collector {
  readonly out: Diagnostic[] = [];
  constructor(private readonly settings: VscanSettings) {}

  add(code: DiagnosticCode, range: Range, message: string, extra?: Partial<Diagnostic>): void {
    const level = this.settings.severity[code] ?? DEFAULT_SEVERITIES[code];
    if (level === 'off') return;
    const diagnostic: Diagnostic = { range, severity: SEVERITY[level], code, source: DIAGNOSTIC_SOURCE, message };
    if (extra?.data !== undefined) diagnostic.data = extra.data;
    if (extra?.relatedInformation !== undefined) diagnostic.relatedInformation = extra.relatedInformation;
    this.out.push(diagnostic);
  }
}

function checkTime(span: Span, which: 'start' | 'end', diagnostics: Collector, durationSec: number | undefined, tolerance: number): void {
  const value = which === 'start' ? span.startValue : span.endValue;
  if (value === undefined || (value >= 0 && (durationSec === undefined || value <= durationSec + tolerance))) return;
  const time = span[which];
  if (value < 0) {
    diagnostics.add('negative-time', time.range, `Time ${time.text} is negative`);
  } else {
    diagnostics.add('out-of-range', time.range,
      `Time ${time.text} is beyond the end of the video (${formatTime(durationSec!, 'seconds', 2)} s)`,
      { data: { kind: 'clamp', durationSec: durationSec! } satisfies DiagnosticData });
  }
}

function checkSpan(span: Span, what: string, diagnostics: Collector, durationSec: number | undefined, tolerance: number): void {
  checkTime(span, 'start', diagnostics, durationSec, tolerance);
  checkTime(span, 'end', diagnostics, durationSec, tolerance);
  if (!timed(span)) return;
  if (span.endValue < span.startValue) {
    diagnostics.add('reversed-span', span.range, `${what} ends (${span.end.text}) before it starts (${span.start.text})`);
  } else if (span.endValue === span.startValue && what === 'Event') {
    diagnostics.add('empty-span', span.range, 'Event starts and ends at the same time');
  }
}

function compareDescriptions(a: EventEntry, b: EventEntry): number {
  const x = a.description;
  const y = b.description;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * One sort of the timed events by (start, end, description) finds both duplicates (equal
 * neighbours) and overlaps (a sweep keeping the event that reaches furthest): n log n.
 */
function checkDuplicatesAndOverlaps(events: EventEntry[], diagnostics: Collector, tolerance: number, uri: string | undefined): void {
  const sorted = events.filter(timed);
  sorted.sort((a, b) => a.startValue - b.startValue || a.endValue - b.endValue
    || compareDescriptions(a, b) || a.index - b.index);
  let runFirst: (typeof sorted)[number] | undefined; // first event of a run of identical events
  let reaching: (typeof sorted)[number] | undefined; // the event seen so far that ends last
  for (const event of sorted) {
    if (runFirst && runFirst.startValue === event.startValue && runFirst.endValue === event.endValue && runFirst.description === event.description) {
      diagnostics.add('duplicate-event', event.fullRange, `Duplicate of the event on line ${runFirst.line + 1}`, {
        data: { kind: 'event', event: event.index } satisfies DiagnosticData,
        relatedInformation: uri ? [{ location: { uri, range: runFirst.fullRange }, message: 'The first occurrence' }] : undefined,
      });
      continue; // a duplicate is not also reported as an overlap
    }
    runFirst = event;
    if (event.endValue < event.startValue) continue; // reversed: reported on its own
    if (reaching) {
      // How much of this event lies inside the other (an empty span inside overlaps by 0).
      const amount = Math.min(reaching.endValue, event.endValue) - event.startValue;
      if (amount > tolerance) {
        diagnostics.add('overlap', event.range,
          `Overlaps ${spanText(reaching)} on line ${reaching.line + 1} by ${describeSeconds(amount)}`,
          {
            data: { kind: 'overlap', earlierEvent: reaching.index, laterEvent: event.index } satisfies DiagnosticData,
            relatedInformation: uri ? [{ location: { uri, range: reaching.range }, message: 'The overlapping event' }] : undefined,
          });
      }
    }
    if (!reaching || event.endValue > reaching.endValue) reaching = event;
  }
}

function checkVideo(doc: VscanDocument, context: DocumentContext, diagnostics: Collector): void {
  const header = findHeader(doc, 'video');
  const video = context.video;
  const firstLine: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: doc.lines[0]?.length ?? 0 } };
  if (header && (!video || (video.explicit && !video.exists))) {
    diagnostics.add('missing-video', header.valueRange,
      header.value ? `Video not found: ${video?.path ?? header.value}` : 'The `Video:` header names no file');
  } else if (!video || !video.exists) {
    diagnostics.add('no-video', firstLine,
      'No video linked: add a `Video:` header or put a video with the same base name beside this file. Range checks are skipped.');
  } else if (video.untrusted) {
    diagnostics.add('untrusted-workspace', header?.valueRange ?? firstLine,
      `Range checks are skipped: this workspace is not trusted, so ${video.path} is not probed (no FFmpeg runs). Trust the workspace to check times against the video.`);
  } else if (video.probeError) {
    diagnostics.add('unreadable-video', header?.valueRange ?? firstLine,
      `Cannot read the duration of ${video.path}: ${video.probeError}. Range checks are skipped.`);
  }
}

/**
 * All diagnostics for a document. `uri` fills relatedInformation locations; without it
 * (the CLI) related events are named in the message only.
 */
export function validateVscan(doc: VscanDocument, context: DocumentContext, settings: VscanSettings, uri?: string): Diagnostic[] {
  const diagnostics = new Collector(settings);
  for (const problem of doc.problems) diagnostics.add(problem.code, problem.range, problem.message);
  checkVideo(doc, context, diagnostics);

  const durationSec = context.video?.exists && !context.video.probeError ? context.video.durationSec : undefined;
  for (const block of doc.blocks) {
    if (block.window) checkSpan(block.window, 'Scene window', diagnostics, durationSec, settings.rangeTolerance);
  }
  let previousStart: { value: number; event: EventEntry } | undefined;
  for (const event of doc.events) {
    checkSpan(event, 'Event', diagnostics, durationSec, settings.rangeTolerance);
    if (!event.description) {
      diagnostics.add('empty-description', event.range, 'Event has no description');
    }
    if (!timed(event)) continue;
    if (previousStart && event.startValue < previousStart.value) {
      diagnostics.add('unsorted', event.range,
        `Starts before the previous event (${previousStart.event.start.text} on line ${previousStart.event.line + 1})`,
        { data: { kind: 'event', event: event.index } satisfies DiagnosticData });
    }
    previousStart = { value: event.startValue, event };
  }
  checkDuplicatesAndOverlaps(doc.events, diagnostics, settings.overlapTolerance, uri);
  // In reading order, as the Problems view and `vscan check` show them (sort is stable).
  return diagnostics.out.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

/**
 * Validation of a parsed .vscan document. Linear in the number of events except the
 * overlap sweep, which sorts once (n log n).
 */
import { type Diagnostic, DiagnosticSeverity, type Range } from 'vscode-languageserver-types';
import type { DocumentContext } from './context';
import type { EventEntry, Span, TimeToken, VscanDocument } from './document';
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
function timed(event: Span): event is Span & { start: { value: number }; end: { value: number } } {
  return event.start.value !== undefined && event.end.value !== undefined;
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
    this.out.push({ range, severity: SEVERITY[level], code, source: DIAGNOSTIC_SOURCE, message, ...extra });
  }
}

function checkSpan(span: Span, what: string, diagnostics: Collector, durationSec: number | undefined, tolerance: number): void {
  for (const time of [span.start, span.end] as TimeToken[]) {
    if (time.value === undefined) continue;
    if (time.value < 0) {
      diagnostics.add('negative-time', time.range, `Time ${time.text} is negative`);
    } else if (durationSec !== undefined && time.value > durationSec + tolerance) {
      diagnostics.add('out-of-range', time.range,
        `Time ${time.text} is beyond the end of the video (${formatTime(durationSec, 'seconds', 2)} s)`,
        { data: { kind: 'clamp', durationSec } satisfies DiagnosticData });
    }
  }
  if (!timed(span)) return;
  if (span.end.value < span.start.value) {
    diagnostics.add('reversed-span', span.range, `${what} ends (${span.end.text}) before it starts (${span.start.text})`);
  } else if (span.end.value === span.start.value && what === 'Event') {
    diagnostics.add('empty-span', span.range, 'Event starts and ends at the same time');
  }
}

/** Reports the later-starting event of every overlapping pair found by a sweep in start order. */
function checkOverlaps(events: EventEntry[], skip: Set<number>, diagnostics: Collector, tolerance: number, uri: string | undefined): void {
  const candidates = events.filter((e) => timed(e) && e.end.value! >= e.start.value! && !skip.has(e.index));
  candidates.sort((a, b) => a.start.value! - b.start.value! || a.end.value! - b.end.value! || a.index - b.index);
  let reaching: EventEntry | undefined; // the event seen so far that ends last
  for (const event of candidates) {
    if (reaching) {
      // How much of this event lies inside the other (an empty span inside overlaps by 0).
      const amount = Math.min(reaching.end.value!, event.end.value!) - event.start.value!;
      if (amount > tolerance) {
        diagnostics.add('overlap', event.range,
          `Overlaps ${spanText(reaching)} on line ${reaching.line + 1} by ${describeSeconds(amount)}`,
          {
            data: { kind: 'overlap', earlierEvent: reaching.index, laterEvent: event.index } satisfies DiagnosticData,
            relatedInformation: uri ? [{ location: { uri, range: reaching.range }, message: 'The overlapping event' }] : undefined,
          });
      }
    }
    if (!reaching || event.end.value! > reaching.end.value!) reaching = event;
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
  const seen = new Map<string, EventEntry>();
  const duplicates = new Set<number>();
  let previousStart: { value: number; event: EventEntry } | undefined;
  for (const event of doc.events) {
    checkSpan(event, 'Event', diagnostics, durationSec, settings.rangeTolerance);
    if (!event.description) {
      diagnostics.add('empty-description', event.range, 'Event has no description');
    }
    if (!timed(event)) continue;
    const key = `${event.start.value}\u0000${event.end.value}\u0000${event.description}`;
    const original = seen.get(key);
    if (original) {
      duplicates.add(event.index);
      diagnostics.add('duplicate-event', event.fullRange, `Duplicate of the event on line ${original.line + 1}`, {
        data: { kind: 'event', event: event.index } satisfies DiagnosticData,
        relatedInformation: uri ? [{ location: { uri, range: original.fullRange }, message: 'The first occurrence' }] : undefined,
      });
    } else {
      seen.set(key, event);
    }
    if (previousStart && event.start.value < previousStart.value) {
      diagnostics.add('unsorted', event.range,
        `Starts before the previous event (${previousStart.event.start.text} on line ${previousStart.event.line + 1})`,
        { data: { kind: 'event', event: event.index } satisfies DiagnosticData });
    }
    previousStart = { value: event.start.value, event };
  }
  checkOverlaps(doc.events, duplicates, diagnostics, settings.overlapTolerance, uri);
  // In reading order, as the Problems view and `vscan check` show them (sort is stable).
  return diagnostics.out.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

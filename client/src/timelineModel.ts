/**
 * The extension's copy of a document's timeline, kept from the language server's
 * notifications (whole once, then differences). The preview forwards the same differences
 * to its webview; the editor side looks events up here (cursor line → event, playhead →
 * event) without parsing anything.
 */
import type { TimelineParams, TimelineVideo } from '../../server/src/lsp/protocol';
import { firstAtOrAfterLine } from '../../server/src/language/navigation';
import { applyTimelineDiff, type TimeFormat, type TimelineEvent, type TimelineScene } from '../../server/src/language/timeline';
import { type TimeTable, timeTable } from '../../webview/src/timeline';

export class TimelineModel {
  version = -1;
  events: TimelineEvent[] = [];
  scenes: TimelineScene[] = [];
  format: TimeFormat = { style: 'seconds', fractionDigits: 1 };
  video: TimelineVideo | undefined;
  private table: TimeTable | undefined;

  /** Whether any model has arrived yet. */
  get loaded(): boolean {
    return this.version >= 0;
  }

  /** Applies a notification; false when it is a diff against a version this copy does not have. */
  apply(params: TimelineParams): boolean {
    if (params.baseVersion === null) this.events = [];
    else if (params.baseVersion !== this.version) return false;
    this.events = applyTimelineDiff(this.events, params.diff);
    this.version = params.version;
    this.scenes = params.scenes;
    this.format = params.format;
    this.video = params.video;
    this.table = undefined;
    return true;
  }

  /** The first event on `line` (events are in document order, so lines ascend). */
  eventOnLine(line: number): TimelineEvent | undefined {
    const event = this.events[firstAtOrAfterLine(this.events, line)];
    return event?.line === line ? event : undefined;
  }

  /** Events sorted by time, built on first use after a change. */
  get byTime(): TimeTable {
    this.table ??= timeTable(this.events);
    return this.table;
  }
}

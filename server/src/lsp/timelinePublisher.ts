/**
 * Sends the timeline of each document a preview watches, as differences against what was
 * last sent: the preview of a 100,000-event file receives one changed event per keystroke.
 * Fed by the validation (the same parse and diagnostics), so nothing is parsed twice.
 */
import { basename } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver/node';
import { carryProblems, type DocumentContext, diffTimeline, documentTimeFormat, type TimelineEvent, timelineEvents, timelineScenes, type VscanDocument } from '../language';
import { needsProxy } from '../video/previewProxy';
import type { ProbeCache } from '../video/probe';
import { modelView, type ModelViewOptions } from '../tasks/modelView';
import type { TimelineParams, TimelineVideo } from './protocol';

interface Sent {
  version: number;
  events: TimelineEvent[];
  lineCount: number;
}

export class TimelinePublisher {
  private readonly watched = new Set<string>();
  private readonly sent = new Map<string, Sent>();
  /** The newest version asked to publish per document: a slower, older publish is dropped. */
  private readonly newest = new Map<string, number>();

  constructor(private readonly send: (params: TimelineParams) => void, private readonly probes: () => ProbeCache, private readonly sampling: () => ModelViewOptions) {}

  /** Start sending `uri`'s timeline; the next publish sends it whole. */
  watch(uri: string): void {
    this.watched.add(uri);
    this.sent.delete(uri);
  }

  unwatch(uri: string): void {
    this.watched.delete(uri);
    this.sent.delete(uri);
  }

  forget(uri: string): void {
    this.sent.delete(uri);
    this.newest.delete(uri);
  }

  /** Whether a preview watches `uri`. */
  watches(uri: string): boolean {
    return this.watched.has(uri);
  }

  /**
   * Publishes `doc`'s timeline. `diagnostics` undefined: a parse without validation (a large
   * file between saves): unchanged events keep the problem marks last sent.
   */
  publish(uri: string, version: number, doc: VscanDocument, diagnostics: readonly Diagnostic[] | undefined, context: DocumentContext, fallbackStyle: 'seconds' | 'clock' = 'seconds'): void {
    if (!this.watched.has(uri)) return;
    this.newest.set(uri, version);
    const last = this.sent.get(uri);
    const events = diagnostics || !last
      ? timelineEvents(doc, diagnostics ?? [])
      : carryProblems(last.events, timelineEvents(doc, []), doc.lines.length - last.lineCount);
    const scenes = timelineScenes(doc);
    const format = documentTimeFormat(doc, fallbackStyle);
    void this.videoOf(context).then((video) => {
      if (!this.watched.has(uri) || this.newest.get(uri) !== version) return;
      const previous = this.sent.get(uri);
      const diff = previous
        ? diffTimeline(previous.events, events, doc.lines.length - previous.lineCount)
        : { start: 0, deleteCount: 0, events, lineDelta: 0 };
      this.sent.set(uri, { version, events, lineCount: doc.lines.length });
      this.send({ uri, version, baseVersion: previous ? previous.version : null, diff, scenes, format, video });
    });
  }

  /** The video's facts from the probe cache (the probe the diagnostics waited for). */
  private async videoOf(context: DocumentContext): Promise<TimelineVideo | undefined> {
    const v = context.video;
    if (!v) return undefined;
    const video: TimelineVideo = { uri: v.uri, name: basename(v.path), exists: v.exists, explicit: v.explicit, durationSec: v.durationSec, probeError: v.probeError };
    if (v.exists && v.durationSec !== undefined) {
      try {
        const probe = await this.probes().get(v.path);
        video.fps = probe.fps;
        video.proxyReason = needsProxy(probe);
        const view = modelView(probe, this.sampling());
        video.modelFrames = view?.frameTimes;
        video.windows = view?.windows;
      } catch {
        // the probe error is in probeError already
      }
    }
    return video;
  }
}

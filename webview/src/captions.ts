/**
 * The events as a text track on the video: the current event's description shows over the
 * picture, and the video element's own captions menu lists the track. Cues are kept in
 * step with the model's differences (one cue per event, in document order), so a keystroke
 * in a 100,000-event file replaces one cue, not all of them.
 */
import type { TimelineDiff } from '../../server/src/language/timeline';

export class EventCaptions {
  private readonly track: TextTrack;
  /** One entry per event (null for spans a cue cannot show: reversed or empty). */
  private cues: (VTTCue | null)[] = [];

  constructor(video: HTMLVideoElement) {
    this.track = video.addTextTrack('captions', 'Events', 'en');
    this.track.mode = 'showing';
  }

  apply(diff: TimelineDiff, whole: boolean): void {
    if (whole) {
      for (const cue of this.cues) if (cue) this.track.removeCue(cue);
      this.cues = [];
    }
    // A cue is active through its end time: touching events would both show at the seam,
    // so each cue ends a millisecond (less than a frame) early.
    const removed = this.cues.splice(diff.start, diff.deleteCount, ...diff.events.map((e) => (e.end > e.start + 0.002 ? new VTTCue(e.start, e.end - 0.001, e.label) : null)));
    for (const cue of removed) if (cue) this.track.removeCue(cue);
    for (let i = diff.start; i < diff.start + diff.events.length; i++) {
      const cue = this.cues[i];
      if (cue) this.track.addCue(cue);
    }
  }

  /** The text shown at the playhead (the cues active now). */
  activeText(): string {
    return Array.from(this.track.activeCues ?? []).map((c) => (c as VTTCue).text).join('\n');
  }
}

/**
 * Long videos: the model sees at most FPS_MAX_FRAMES / FPS seconds (120 s by default) at
 * full temporal density, so longer videos are captioned in overlapping windows. Each
 * window is shown to the model as a clip starting at 0 (as in training); its answer is
 * shifted back to source time, kept as one `Scene <start - end>:` block, and events seen
 * twice in an overlap are merged.
 */
import type { CaptionEvent } from './parse';

export interface TimeWindow {
  start: number;
  end: number;
}

/** Windows of `length` seconds overlapping by `overlap`, covering [0, duration]; one when it fits. */
export function planWindows(duration: number, length: number, overlap: number): TimeWindow[] {
  if (!(length > 0) || !(overlap >= 0) || overlap >= length) throw new RangeError(`window ${length} s with overlap ${overlap} s: the overlap must be shorter than the window`);
  if (duration <= length) return [{ start: 0, end: duration }];
  const step = length - overlap;
  const windows: TimeWindow[] = [];
  for (let start = 0; ; start += step) {
    const end = Math.min(start + length, duration);
    windows.push({ start, end });
    if (end >= duration) break;
  }
  return windows;
}

export interface WindowCaption {
  window: TimeWindow;
  scene: string;
  /** In source time. */
  events: CaptionEvent[];
  format_ok: boolean;
}

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean));
}

function similarity(a: string, b: string): number {
  const x = words(a);
  const y = words(b);
  if (!x.size && !y.size) return 1;
  let shared = 0;
  for (const w of x) if (y.has(w)) shared++;
  return shared / (x.size + y.size - shared);
}

function overlapRatio(a: CaptionEvent, b: CaptionEvent): number {
  const inter = Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
  const union = Math.max(a.end, b.end) - Math.min(a.start, b.start);
  return union > 0 ? inter / union : a.start === b.start ? 1 : 0;
}

/** Distance of an event's middle from its window's middle, relative to the window. */
function offCentre(event: CaptionEvent, window: TimeWindow): number {
  return Math.abs((event.start + event.end) / 2 - (window.start + window.end) / 2) / Math.max(window.end - window.start, 1e-9);
}

/**
 * Events of neighbouring windows that describe the same thing (time overlap ≥ 50% of their
 * union and word overlap ≥ 50%) are merged, keeping the copy nearer its window's centre,
 * where the model saw more context around it. Returns the windows with their kept events.
 */
export function mergeWindowEvents(captions: WindowCaption[]): { captions: WindowCaption[]; merged: number } {
  const kept = captions.map((c) => c.events.map(() => true));
  let merged = 0;
  for (let w = 0; w + 1 < captions.length; w++) {
    const a = captions[w];
    const b = captions[w + 1];
    a.events.forEach((ea, i) => {
      b.events.forEach((eb, j) => {
        if (!kept[w][i] || !kept[w + 1][j]) return;
        if (overlapRatio(ea, eb) >= 0.5 && similarity(ea.description, eb.description) >= 0.5) {
          if (offCentre(ea, a.window) <= offCentre(eb, b.window)) kept[w + 1][j] = false;
          else kept[w][i] = false;
          merged++;
        }
      });
    });
  }
  return { captions: captions.map((c, w) => ({ ...c, events: c.events.filter((_, i) => kept[w][i]) })), merged };
}

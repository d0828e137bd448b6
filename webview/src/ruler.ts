/**
 * Timeline geometry that needs no DOM (tested in Node): the ruler's ticks and labels for a
 * zoom level, zooming around a point, snapping to the frame grid, and finding the events
 * in view by binary search.
 */

/** Steps a ruler may use between labelled ticks, in seconds. */
const STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000, 36000];

export interface Ticks {
  /** Seconds between labelled (major) ticks. */
  major: number;
  /** Seconds between small ticks (a fraction of major). */
  minor: number;
}

/** The finest step whose labels stay at least `minLabelPx` apart at this zoom. */
export function ticksFor(secondsPerPixel: number, minLabelPx = 80): Ticks {
  const major = STEPS.find((s) => s / secondsPerPixel >= minLabelPx) ?? STEPS[STEPS.length - 1];
  const fifth = major / 5;
  const minor = fifth / secondsPerPixel >= 8 ? fifth : major / 2;
  return { major, minor };
}

/** A ruler label: `m:ss`, `h:mm:ss`, with the decimals the step needs (`0:01.5`). */
export function rulerLabel(seconds: number, step: number): string {
  const digits = step >= 1 ? 0 : step >= 0.1 ? 1 : 2;
  const scale = 10 ** digits;
  const total = Math.round(seconds * scale) / scale;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total - hours * 3600) / 60);
  const secs = (total - hours * 3600 - minutes * 60).toFixed(digits).padStart(digits ? digits + 3 : 2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

/** The visible window: `viewStart` seconds at the left edge, `secondsPerPixel` wide per CSS pixel. */
export interface View {
  viewStart: number;
  secondsPerPixel: number;
}

/** Zooms by `factor` (>1 zooms in) keeping the time under `anchorPx` still; bounded to [min, max] s/px. */
export function zoomAround(view: View, factor: number, anchorPx: number, limits: { min: number; max: number }): View {
  const anchor = view.viewStart + anchorPx * view.secondsPerPixel;
  const secondsPerPixel = Math.min(limits.max, Math.max(limits.min, view.secondsPerPixel / factor));
  return { secondsPerPixel, viewStart: anchor - anchorPx * secondsPerPixel };
}

/** Keeps the view inside [0, duration] (a view wider than the video starts at 0). */
export function clampView(view: View, widthPx: number, duration: number): View {
  const span = widthPx * view.secondsPerPixel;
  const viewStart = Math.max(0, Math.min(view.viewStart, duration - span));
  return { ...view, viewStart: Number.isFinite(viewStart) ? viewStart : 0 };
}

/**
 * The grid an edited time snaps to: a video frame when the frame rate is known and coarser
 * than the document's written precision, else that precision (0.1 s for one decimal).
 */
export function snapStep(fps: number | undefined, fractionDigits: number): number {
  const written = 10 ** -Math.max(1, fractionDigits);
  return fps && fps > 0 && 1 / fps > written ? 1 / fps : written;
}

export function snap(seconds: number, step: number): number {
  return Math.round(seconds / step) * step;
}

/**
 * Events sorted by start, with the running maximum of their ends: the first event that can
 * reach into a window starting at `t` is found by binary search on that maximum, so drawing
 * visits only what is in view (plus overlapping long events), whatever the file's size.
 */
export interface SortedSpans {
  /** Indices into the event list, by start then end. */
  order: Int32Array;
  starts: Float64Array;
  maxEnds: Float64Array;
}

export function sortSpans(spans: readonly { start: number; end: number }[]): SortedSpans {
  const order = Int32Array.from(spans.keys());
  order.sort((a, b) => spans[a].start - spans[b].start || spans[a].end - spans[b].end);
  const starts = new Float64Array(order.length);
  const maxEnds = new Float64Array(order.length);
  let max = -Infinity;
  for (let i = 0; i < order.length; i++) {
    const s = spans[order[i]];
    starts[i] = s.start;
    max = Math.max(max, s.end);
    maxEnds[i] = max;
  }
  return { order, starts, maxEnds };
}

/** The sorted positions [from, to) of events that may intersect [t0, t1]. */
export function visibleRange(sorted: SortedSpans, t0: number, t1: number): [number, number] {
  let lo = 0;
  let hi = sorted.maxEnds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted.maxEnds[mid] < t0) lo = mid + 1;
    else hi = mid;
  }
  const from = lo;
  hi = sorted.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted.starts[mid] <= t1) lo = mid + 1;
    else hi = mid;
  }
  return [from, lo];
}

/** The first index of `times` (ascending) at or after `t`, by binary search. */
function firstAtOrAfter(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The filmstrip's thumbnails to draw, `thumbPx` wide, each at its time's pixel (`x`, its
 * left edge): those that would overlap the one drawn before are skipped, so zooming in
 * shows more of them. Only the times in view are visited (a binary search finds the first).
 */
export function thumbnailsInView(times: readonly number[], view: View, widthPx: number, thumbPx: number): { index: number; x: number }[] {
  const out: { index: number; x: number }[] = [];
  let right = -Infinity;
  for (let i = firstAtOrAfter(times, view.viewStart - thumbPx * view.secondsPerPixel); i < times.length; i++) {
    const x = Math.round((times[i] - view.viewStart) / view.secondsPerPixel);
    if (x > widthPx) break;
    if (x < right) continue;
    out.push({ index: i, x });
    right = x + thumbPx + 1;
  }
  return out;
}

/**
 * Stage 2 of a library search: the model grounds the best text matches. For each of the
 * top k hits that has a video, Find is asked for the query in a window around the hit's
 * time; a hit whose window the model places the query in (its answer overlaps the hit) is
 * confirmed and moves up, by how much the model's span and the hit's agree. The text
 * ranking decides among the rest, which keep their order below the confirmed ones.
 */
import type { LibraryHit } from './searchIndex';

/** Seconds of video before and after a hit that Find looks at (at least; more for long events). */
export const GROUNDING_MARGIN = 15;

export interface GroundingWindow {
  start: number;
  end: number;
}

/** What Find answered for one hit's window, with the span in the video's time. */
export interface GroundingAnswer {
  span: [number, number] | null;
  format_ok: boolean;
}

export interface RankedHit extends LibraryHit {
  /** Whether the model confirmed this hit. */
  grounded: boolean;
  /** The model's span for the query, when it answered one. */
  span?: [number, number];
  /** The window Find was asked about, when it was asked. */
  window?: GroundingWindow;
}

/** The window Find is asked about for a hit: the hit widened by a margin on each side, from 0. */
export function groundingWindow(hit: Pick<LibraryHit, 'start' | 'end'>): GroundingWindow {
  const margin = Math.max(GROUNDING_MARGIN, hit.end - hit.start);
  return { start: Math.max(0, hit.start - margin), end: hit.end + margin };
}

/** Intersection over union of two spans (0 when they do not overlap). */
export function overlapRatio(a: readonly [number, number], b: readonly [number, number]): number {
  const inter = Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
  const union = Math.max(a[1], b[1]) - Math.min(a[0], b[0]);
  return union > 0 ? inter / union : a[0] === b[0] && a[1] === b[1] ? 1 : 0;
}

/**
 * Re-ranks `hits` (best first, from the text index) by asking `find` about the first `k` that
 * have a video, one at a time (the model runs one job at a time anyway). Confirmed hits come
 * first, ordered by overlap with the model's span, then by text score; the rest follow in
 * their text order. `signal` stops between hits.
 */
export async function groundHits(
  hits: readonly LibraryHit[],
  k: number,
  find: (video: string, window: GroundingWindow) => Promise<GroundingAnswer>,
  signal?: AbortSignal,
): Promise<RankedHit[]> {
  const ranked: (RankedHit & { agreement: number; order: number })[] = hits.map((hit, order) => ({ ...hit, grounded: false, agreement: 0, order }));
  let asked = 0;
  for (const hit of ranked) {
    if (asked >= k) break;
    if (!hit.video) continue;
    if (signal?.aborted) throw Object.assign(new Error('cancelled'), { cancelled: true });
    asked++;
    hit.window = groundingWindow(hit);
    const answer = await find(hit.video, hit.window);
    if (!answer.span) continue;
    hit.span = answer.span;
    hit.agreement = overlapRatio(answer.span, [hit.start, hit.end]);
    hit.grounded = hit.agreement > 0;
  }
  ranked.sort((a, b) => Number(b.grounded) - Number(a.grounded) || b.agreement - a.agreement || a.order - b.order);
  return ranked.map(({ agreement: _agreement, order: _order, ...hit }) => hit);
}

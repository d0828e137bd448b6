/**
 * Presentation times. The prompt keeps the training convention — a frame's time is its
 * index ÷ the average frame rate — but on a variable-frame-rate video (phones) that is not
 * when the frame plays: an event the model puts at 3.47 s may play at 1.40 s. So each time
 * the model answers is mapped back through the sampled frames' presentation timestamps
 * (from the packet table) before it is written or sought to.
 */
import type { FramePlan } from './plan';
import type { PacketTable } from './seek';

/**
 * Presentation times of the planned frames, in seconds from the first frame (the player's
 * 0), or undefined when the packet table does not list one packet per frame (then the
 * convention is all there is).
 */
export function presentationTimes(table: PacketTable | undefined, frameCount: number, indices: readonly number[]): number[] | undefined {
  if (!table || table.times.length !== frameCount || frameCount === 0) return undefined;
  const origin = table.times[0];
  return indices.map((index) => table.times[index] - origin);
}

export interface FrameTiming {
  /** Whether frames play away from index ÷ average fps by more than half a frame somewhere. */
  vfr: boolean;
  /** The largest such distance, in seconds. */
  maxOffsetSec: number;
}

/** How far the convention (index ÷ fps) is from when each frame plays. */
export function frameTiming(table: PacketTable, fps: number): FrameTiming {
  const origin = table.times[0] ?? 0;
  let maxOffsetSec = 0;
  table.times.forEach((time, index) => {
    maxOffsetSec = Math.max(maxOffsetSec, Math.abs(time - origin - index / fps));
  });
  // Microseconds are as fine as container timestamps go; more digits are float noise.
  return { vfr: fps > 0 && maxOffsetSec > 0.5 / fps, maxOffsetSec: Math.round(maxOffsetSec * 1e6) / 1e6 };
}

/**
 * Maps a time the model answered (in the prompt's frame: convention times less `originSec`,
 * the window's start) to presentation time in the whole video: linear between the sampled
 * frames, and shifted like the nearest sampled frame outside them. Without presentation
 * times it is the convention shifted back by the origin.
 */
export function modelToPresentation(plan: Pick<FramePlan, 'frameTimesSec'>, presentation: readonly number[] | undefined, originSec: number): (modelSec: number) => number {
  if (!presentation || presentation.length !== plan.frameTimesSec.length) return (t) => t + originSec;
  // Knots by model time, one per distinct sampled frame (a repeated index adds nothing).
  const xs: number[] = [];
  const ys: number[] = [];
  plan.frameTimesSec.forEach((time, i) => {
    const x = time - originSec;
    if (xs.length && x <= xs[xs.length - 1]) return;
    xs.push(x);
    ys.push(presentation[i]);
  });
  const last = xs.length - 1;
  return (t) => {
    if (!Number.isFinite(t)) return t;
    if (t <= xs[0]) return Math.max(0, ys[0] + (t - xs[0]));
    if (t >= xs[last]) return ys[last] + (t - xs[last]);
    let low = 0;
    let high = last;
    while (high - low > 1) {
      const middle = (low + high) >> 1;
      if (xs[middle] <= t) low = middle;
      else high = middle;
    }
    return ys[low] + ((t - xs[low]) / (xs[high] - xs[low])) * (ys[high] - ys[low]);
  };
}

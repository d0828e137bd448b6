/**
 * What the model is shown of a video, for the preview's "model frames" row: the times of
 * the frames each caption is based on (the frame plan, window by window for a long video)
 * and the windows themselves, so their seams can be drawn. The same planning as the
 * caption task (planWindows + planFrames), without decoding anything.
 */
import { planFrames, type SamplingOptions } from '../video/plan';
import type { VideoProbe } from '../video/probe';
import { planWindows, type TimeWindow } from './windows';

export interface ModelView {
  /** Source times of the sampled frames, ascending (overlaps of windows appear twice). */
  frameTimes: number[];
  /** The source frame index of each time in `frameTimes` (what the filmstrip decodes). */
  frameIndices: number[];
  /** The windows a long video is captioned in (one for a short video). */
  windows: TimeWindow[];
}

export interface ModelViewOptions {
  sampling: SamplingOptions;
  /** Window length in seconds (default: maxFrames / fps, as the caption task). */
  window?: number;
  overlap?: number;
}

/** The plan for `probe`; undefined when it cannot be planned (a probe without frames). */
export function modelView(probe: Pick<VideoProbe, 'durationSec' | 'fps' | 'frameCount' | 'width' | 'height'>, options: ModelViewOptions): ModelView | undefined {
  const length = options.window ?? options.sampling.maxFrames / options.sampling.fps;
  try {
    const windows = planWindows(probe.durationSec, length, options.overlap ?? Math.min(10, length / 4));
    const frameTimes: number[] = [];
    const frameIndices: number[] = [];
    for (const w of windows.slice(0, 1000)) {
      const single = windows.length === 1;
      const plan = planFrames(probe, single ? options.sampling : { ...options.sampling, start: w.start, end: w.end });
      frameTimes.push(...plan.frameTimesSec);
      frameIndices.push(...plan.frameIndices);
    }
    return { frameTimes, frameIndices, windows };
  } catch {
    return undefined;
  }
}

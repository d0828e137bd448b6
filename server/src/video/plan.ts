/**
 * The frame plan: which frames the model sees, at what size, with which timestamps —
 * exactly as Marlin was trained (qwen-vl-utils' fetch_video with ms-swift's environment
 * overrides, then the Hugging Face Qwen3-VL processor). Sources and every detail:
 * docs/video-pipeline.md.
 */
import { f32, pythonFixed1, roundHalfEven } from './pyround';

export interface SamplingOptions {
  /** Frames per second to sample (FPS, default 2.0). */
  fps: number;
  /** FPS_MIN_FRAMES (default 4). */
  minFrames: number;
  /** FPS_MAX_FRAMES (default 240). */
  maxFrames: number;
  /** VIDEO_MAX_PIXELS (default 200704): the per-frame pixel budget. */
  maxPixels: number;
  /** Window in source seconds (qwen-vl-utils' video_start / video_end). */
  start?: number;
  end?: number;
}

/** The model-side geometry, read from the checkpoint's preprocessor config when given. */
export interface VisionGeometry {
  patchSize: number;
  temporalPatchSize: number;
  mergeSize: number;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

export const DEFAULT_GEOMETRY: VisionGeometry = {
  patchSize: 16,
  temporalPatchSize: 2,
  mergeSize: 2,
  imageMean: [0.5, 0.5, 0.5],
  imageStd: [0.5, 0.5, 0.5],
};

export const TRAINING_DEFAULTS: SamplingOptions = { fps: 2.0, minFrames: 4, maxFrames: 240, maxPixels: 200704 };

/** qwen-vl-utils constants that Marlin's training did not override. */
const VIDEO_MIN_TOKEN_NUM = 128;
const MODEL_SEQ_LEN = 128000;
const MAX_RATIO = 200;
const FRAME_FACTOR = 2;

export class PlanError extends Error {
  override name = 'PlanError';
}

/** The training defaults, overridden by the environment variables of the same names. */
export function samplingFromEnv(env: NodeJS.ProcessEnv = process.env): SamplingOptions {
  const read = (name: string, fallback: number, integer: boolean): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new PlanError(`${name}=${raw} is not a valid ${integer ? 'positive integer' : 'positive number'}`);
    }
    return value;
  };
  return {
    fps: read('FPS', TRAINING_DEFAULTS.fps, false),
    minFrames: read('FPS_MIN_FRAMES', TRAINING_DEFAULTS.minFrames, true),
    maxFrames: read('FPS_MAX_FRAMES', TRAINING_DEFAULTS.maxFrames, true),
    maxPixels: read('VIDEO_MAX_PIXELS', TRAINING_DEFAULTS.maxPixels, true),
  };
}

const floorBy = (x: number, factor: number) => Math.floor(x / factor) * factor;
const ceilBy = (x: number, factor: number) => Math.ceil(x / factor) * factor;
const roundBy = (x: number, factor: number) => roundHalfEven(x / factor) * factor;

/** qwen-vl-utils smart_nframes (fps mode): an even frame count. */
export function smartNFrames(totalFrames: number, videoFps: number, options: Pick<SamplingOptions, 'fps' | 'minFrames' | 'maxFrames'>): number {
  const minFrames = ceilBy(options.minFrames, FRAME_FACTOR);
  const maxFrames = floorBy(Math.min(options.maxFrames, totalFrames), FRAME_FACTOR);
  const wanted = (totalFrames / videoFps) * options.fps;
  const n = floorBy(Math.min(Math.min(Math.max(wanted, minFrames), maxFrames), totalFrames), FRAME_FACTOR);
  if (!(FRAME_FACTOR <= n && n <= totalFrames)) {
    throw new PlanError(`${totalFrames} frame${totalFrames === 1 ? '' : 's'} to sample from; the model needs at least ${FRAME_FACTOR}`);
  }
  return n;
}

/**
 * torch.linspace(start, end, steps) in float32 (CPU kernel: step computed once, first half
 * counted up from start, second half down from end), then .round() half to even.
 */
export function linspaceIndices(start: number, end: number, steps: number): number[] {
  if (steps === 1) return [roundHalfEven(f32(start))];
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const value = i < halfway ? f32(s + f32(step * i)) : f32(e - f32(step * (steps - i - 1)));
    out.push(roundHalfEven(value));
  }
  return out;
}

/** qwen-vl-utils smart_resize: both sides multiples of `factor`, pixels within bounds. */
export function smartResize(height: number, width: number, factor: number, minPixels: number, maxPixels: number): { height: number; width: number } {
  if (Math.max(height, width) / Math.min(height, width) > MAX_RATIO) {
    throw new PlanError(`aspect ratio ${width}×${height} exceeds ${MAX_RATIO}:1`);
  }
  let h = Math.max(factor, roundBy(height, factor));
  let w = Math.max(factor, roundBy(width, factor));
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = floorBy(height / beta, factor);
    w = floorBy(width / beta, factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = ceilBy(height * beta, factor);
    w = ceilBy(width * beta, factor);
  }
  if (h < factor || w < factor) throw new PlanError(`${width}×${height} is too narrow to resize to ${factor}-pixel multiples`);
  return { height: h, width: w };
}

/** What a plan needs to know about the video. */
export interface PlanInput {
  /** Decodable frames in the video. */
  frameCount: number;
  /** Average frame rate. */
  fps: number;
  /** Display size (after rotation). */
  width: number;
  height: number;
}

export interface FramePlan {
  /** Source frame indices to decode, in order (even count). */
  frameIndices: number[];
  /** index / fps for each sampled frame. */
  frameTimesSec: number[];
  /** One per frame pair: the mean time of its two frames (the last frame repeated when odd). */
  timestampsSec: number[];
  /** The prompt text per frame pair: `<12.3 seconds>`. */
  timestampText: string[];
  resizedWidth: number;
  resizedHeight: number;
  /** [t, h, w] in patches: t = pairs, h = height / patch, w = width / patch. */
  gridThw: [number, number, number];
  /** Tokens the video becomes after the 2×2 merge. */
  visualTokens: number;
  /** Frame range the indices were spread over (a window, or the whole video). */
  firstFrame: number;
  lastFrame: number;
}

/** qwen-vl-utils calculate_video_frame_range: a window in seconds → inclusive frame range. */
export function frameRange(input: PlanInput, start: number | undefined, end: number | undefined): { first: number; last: number } {
  const total = input.frameCount;
  if (start === undefined && end === undefined) return { first: 0, last: total - 1 };
  const maxDuration = total / input.fps;
  const first = start === undefined ? 0 : Math.ceil(Math.max(0, Math.min(start, maxDuration)) * input.fps);
  const last = end === undefined ? total - 1 : Math.min(Math.floor(Math.max(0, Math.min(end, maxDuration)) * input.fps), total - 1);
  if (first >= last) {
    throw new PlanError(`window ${start ?? 0}–${end ?? maxDuration} s selects no frames (frames ${first}–${last} of ${total} at ${input.fps} fps)`);
  }
  return { first, last };
}

export function planFrames(input: PlanInput, options: SamplingOptions, geometry: VisionGeometry = DEFAULT_GEOMETRY): FramePlan {
  if (!(input.frameCount >= 1) || !(input.fps > 0) || !(input.width > 0) || !(input.height > 0)) {
    throw new PlanError(`cannot plan frames for ${input.frameCount} frames at ${input.fps} fps, ${input.width}×${input.height}`);
  }
  const { first, last } = frameRange(input, options.start, options.end);
  const count = last - first + 1;
  const n = smartNFrames(count, input.fps, options);
  const frameIndices = linspaceIndices(first, last, n);

  const factor = geometry.patchSize * geometry.mergeSize;
  const minPixels = VIDEO_MIN_TOKEN_NUM * factor * factor;
  const totalPixels = MODEL_SEQ_LEN * factor * factor * 0.9;
  // ms-swift turns VIDEO_MAX_PIXELS into a token count (integer division by factor²).
  const frameMaxPixels = Math.floor(options.maxPixels / (factor * factor)) * factor * factor;
  const maxPixels = Math.max(Math.min(frameMaxPixels, (totalPixels / n) * FRAME_FACTOR), Math.trunc(minPixels * 1.05));
  const size = smartResize(input.height, input.width, factor, minPixels, maxPixels);

  const frameTimesSec = frameIndices.map((index) => index / input.fps);
  const merge = geometry.temporalPatchSize;
  const padded = [...frameIndices];
  while (padded.length % merge !== 0) padded.push(padded[padded.length - 1]);
  const timestampsSec: number[] = [];
  for (let i = 0; i < padded.length; i += merge) {
    timestampsSec.push((padded[i] / input.fps + padded[i + merge - 1] / input.fps) / 2);
  }
  const gridThw: [number, number, number] = [padded.length / merge, size.height / geometry.patchSize, size.width / geometry.patchSize];
  return {
    frameIndices,
    frameTimesSec,
    timestampsSec,
    timestampText: timestampsSec.map((t) => `<${pythonFixed1(t)} seconds>`),
    resizedWidth: size.width,
    resizedHeight: size.height,
    gridThw,
    visualTokens: (gridThw[0] * gridThw[1] * gridThw[2]) / (geometry.mergeSize * geometry.mergeSize),
    firstFrame: first,
    lastFrame: last,
  };
}

/**
 * The same plan with its prompt timestamps measured from `originSec`: a window of a long
 * video is shown to the model as a clip starting at 0, as its training clips did.
 */
export function withTimeOrigin(plan: FramePlan, originSec: number): FramePlan {
  if (originSec === 0) return plan;
  const timestampsSec = plan.timestampsSec.map((t) => t - originSec);
  return { ...plan, timestampsSec, timestampText: timestampsSec.map((t) => `<${pythonFixed1(t)} seconds>`) };
}

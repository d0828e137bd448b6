/**
 * Video in, model input out: probe → plan → decode the planned frames → resize each as it
 * arrives → patchify each frame pair as soon as both of its frames are in (framePairs.ts),
 * so the vision tower can start before the last frame is decoded (startVideo). Shared by
 * the CLI, the language server and the caption/find tasks.
 */
import { type DecodedFrame, decodeFrames } from './decode';
import { chooseDecodeMethod, type DecodeChoice, decodeFramesBySeeking, type PacketTable, readPacketTable } from './seek';
import { DEFAULT_GEOMETRY, type FramePlan, planFrames, type SamplingOptions, type VisionGeometry } from './plan';
import type { PixelValues } from './preprocess';
import { FramePairs } from './framePairs';
import { type ProbeOptions, probeVideo, type VideoProbe, VideoError } from './probe';
import { ResizePool } from './resizePool';
import { frameTiming, type FrameTiming, presentationTimes } from './presentation';

export interface PrepareOptions {
  sampling: SamplingOptions;
  geometry?: VisionGeometry;
  ffmpegPath?: string;
  ffprobePath?: string;
  threads?: number;
  signal?: AbortSignal;
  /** Called after each decoded frame: (done, total). */
  onFrame?: (done: number, total: number) => void;
  /** A probe already made (skips probing). */
  probe?: VideoProbe;
  /** How to decode: `auto` (default) estimates which decodes fewer frames. */
  decodeMethod?: 'auto' | 'sequential' | 'seek';
}

/** A plan this sparse (source frames per sampled frame) is worth checking for seeking. */
const SPARSE_PLAN = 8;
/** A window starting this many frames in skips them with one seek. */
const SKIP_TO_WINDOW_FRAMES = 300;

export interface PreparedVideo {
  probe: VideoProbe;
  plan: FramePlan;
  /** The sampled frames after the resize, HWC RGB uint8, in plan order. */
  frames: Uint8Array[];
  pixelValues: PixelValues;
  /** How the frames were decoded, and the estimate behind the choice. */
  decode: DecodeChoice;
  /**
   * When each planned frame plays (seconds from the first frame), from the packet table;
   * undefined when the table does not list one packet per frame. Model times are mapped
   * through these (presentation.ts).
   */
  presentationSec: number[] | undefined;
  /** How far index ÷ fps is from presentation time (undefined without a packet table). */
  timing: FrameTiming | undefined;
  /** Milliseconds per stage. */
  timings: { probe: number; plan: number; decodeAndResize: number; patchify: number };
}

export async function planVideo(file: string, sampling: SamplingOptions, geometry: VisionGeometry = DEFAULT_GEOMETRY, probeOptions: ProbeOptions = {}): Promise<{ probe: VideoProbe; plan: FramePlan }> {
  const probe = await probeVideo(file, probeOptions);
  return { probe, plan: planOrExplain(file, probe, sampling, geometry) };
}

function planOrExplain(file: string, probe: VideoProbe, sampling: SamplingOptions, geometry: VisionGeometry): FramePlan {
  try {
    return planFrames(probe, sampling, geometry);
  } catch (error) {
    throw new VideoError(file, (error as Error).message);
  }
}

/** Frames decoded but not yet resized, in pairs: the decoder pauses beyond this (each is full size: 6 MB at 1080p). */
const PAIRS_IN_FLIGHT = 4;

/** A video being prepared: its pairs as they are written, and the whole when every frame is in. */
export interface VideoPreparation {
  /** Once the plan is made: the pixel values, filled pair by pair (`pairs.ready(k)`). */
  pairs: Promise<FramePairs>;
  /** Every frame decoded, resized and patchified. */
  prepared: Promise<PreparedVideo>;
}

/** Prepares a video completely: probe, plan, decode, resize, patchify. */
export function prepareVideo(file: string, options: PrepareOptions): Promise<PreparedVideo> {
  return startVideo(file, options).prepared;
}

/**
 * Starts preparing a video and returns at once: a reader can encode the first pairs while
 * later frames are decoded. Both promises are marked handled here (a reader that stops
 * early must not leave an unhandled rejection); awaiting them still throws.
 */
export function startVideo(file: string, options: PrepareOptions): VideoPreparation {
  let planned!: (pairs: FramePairs) => void;
  const pairs = new Promise<FramePairs>((resolve) => { planned = resolve; });
  const prepared = prepareInto(file, options, planned);
  // The plan's pairs, or the error that came before the plan (a probe that failed).
  const preparation = { pairs: Promise.race([pairs, prepared.then(() => pairs)]), prepared };
  preparation.pairs.catch(() => undefined);
  prepared.catch(() => undefined);
  return preparation;
}

async function prepareInto(file: string, options: PrepareOptions, planned: (pairs: FramePairs) => void): Promise<PreparedVideo> {
  const geometry = options.geometry ?? DEFAULT_GEOMETRY;
  let started = performance.now();
  const probe = options.probe ?? (await probeVideo(file, { ffprobePath: options.ffprobePath, signal: options.signal }));
  const probeMs = performance.now() - started;
  started = performance.now();
  const plan = planOrExplain(file, probe, options.sampling, geometry);
  const planMs = performance.now() - started;
  const pairs = new FramePairs(plan.frameIndices.length, plan.resizedWidth, plan.resizedHeight, geometry);
  planned(pairs);
  try {
    started = performance.now();
    const { decode, table, patchifyMs } = await decodeInto(file, probe, plan, pairs, options);
    return {
      probe, plan, frames: pairs.frames, pixelValues: pairs.pixelValues, decode,
      presentationSec: presentationTimes(table, probe.frameCount, plan.frameIndices),
      timing: table && table.times.length === probe.frameCount ? frameTiming(table, probe.fps) : undefined,
      timings: { probe: probeMs, plan: planMs, decodeAndResize: performance.now() - started - patchifyMs, patchify: patchifyMs },
    };
  } catch (error) {
    pairs.fail(error as Error);
    throw error;
  }
}

/** Decodes the planned frames, resizes each as it arrives and writes each pair as it completes. */
async function decodeInto(file: string, probe: VideoProbe, plan: FramePlan, pairs: FramePairs, options: PrepareOptions): Promise<{ decode: DecodeChoice; table: PacketTable | undefined; patchifyMs: number }> {
  const method = options.decodeMethod ?? 'auto';
  const lastIndex = plan.frameIndices[plan.frameIndices.length - 1];
  // A window far into the file starts its pass there, which needs exact frame times too.
  const windowed = plan.firstFrame >= SKIP_TO_WINDOW_FRAMES;
  const needed = method === 'seek' || windowed || (method === 'auto' && lastIndex + 1 >= SPARSE_PLAN * plan.frameIndices.length);
  // Always read: the presentation times of the planned frames come from it (a packet pass
  // costs ~0.16 s for 4,500 packets here, far less than decoding). Only a pass that needs
  // it for decoding fails without it.
  const table = await readPacketTable(file, { ffprobePath: options.ffprobePath, signal: options.signal }).catch((error: unknown) => {
    if (needed || options.signal?.aborted) throw error;
    return undefined;
  });
  const decode = method === 'sequential' ? { method: 'sequential' as const, sequentialFrames: lastIndex + 1, seekFrames: Infinity }
    : method === 'seek' ? { ...chooseDecodeMethod(plan.frameIndices, table, probe.frameCount, probe.width * probe.height), method: 'seek' as const }
    : needed ? chooseDecodeMethod(plan.frameIndices, table, probe.frameCount, probe.width * probe.height)
    : { method: 'sequential' as const, sequentialFrames: lastIndex + 1, seekFrames: Infinity };
  if (decode.method === 'seek' && table?.times.length !== probe.frameCount) {
    throw new VideoError(file, `cannot seek: ${table?.times.length ?? 0} packets for ${probe.frameCount} frames`);
  }
  const pool = new ResizePool(options.threads);
  const resized: Promise<void>[] = [];
  const total = plan.frameIndices.length;
  const maxInFlight = PAIRS_IN_FLIGHT * (options.geometry ?? DEFAULT_GEOMETRY).temporalPatchSize;
  let inFlight = 0;
  let room: (() => void) | undefined;
  let done = 0;
  let patchifyMs = 0;
  try {
    const onFrame = (frame: DecodedFrame) => {
      inFlight++;
      // Sized from the decoded frame itself, so a probe that misjudged rotation cannot skew it.
      const resize = pool.resize(frame.rgb, frame.width, frame.height, plan.resizedWidth, plan.resizedHeight).then((rgb) => {
        const started = performance.now();
        pairs.add(frame.position, rgb);
        patchifyMs += performance.now() - started;
        options.onFrame?.(++done, total);
      });
      resized.push(resize.finally(() => {
        inFlight--;
        room?.();
      }));
    };
    const throttle = () => inFlight < maxInFlight ? undefined : new Promise<void>((resolve) => {
      room = () => {
        if (inFlight >= maxInFlight) return;
        room = undefined;
        resolve();
      };
    });
    const decodeOptions = { ffmpegPath: options.ffmpegPath, threads: options.threads, signal: options.signal, throttle };
    if (decode.method === 'seek') await decodeFramesBySeeking(file, plan.frameIndices, table!, onFrame, decodeOptions);
    else {
      // Start at the window (seek halfway before its first frame, so rounding cannot skip it).
      const first = plan.firstFrame;
      const startAt = windowed && table && table.times.length === probe.frameCount && first > 0
        ? { frame: first, time: (table.times[first - 1] + table.times[first]) / 2 }
        : undefined;
      await decodeFrames(file, plan.frameIndices, onFrame, { ...decodeOptions, startAt });
    }
    await Promise.all(resized);
  } finally {
    await Promise.allSettled(resized);
    await pool.close();
  }
  return { decode, table, patchifyMs };
}

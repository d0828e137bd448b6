/** `vscan probe` and `vscan frames`: what the model will see of a video. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { contactSheet, encodePng } from '../io/png';
import { writeNpy } from '../io/npy';
import { readVisionGeometry } from '../video/geometry';
import { prepareVideo, planVideo } from '../video/pipeline';
import { PlanError, samplingFromEnv, type SamplingOptions } from '../video/plan';
import type { VideoProbe } from '../video/probe';
import type { FramePlan } from '../video/plan';
import { frameTiming, type FrameTiming, presentationTimes } from '../video/presentation';
import { readPacketTable } from '../video/seek';
import { numberFlag, UsageError } from './usage';

export const VIDEO_HELP = `  vscan probe <video> [--json] [--dump DIR] [sampling options]
  vscan frames <video> --out DIR [sampling options]

Sampling options (defaults: the training pipeline's; the env vars FPS, FPS_MIN_FRAMES,
FPS_MAX_FRAMES and VIDEO_MAX_PIXELS override them, and these flags override both):
  --fps F  --min-frames N  --max-frames N  --max-pixels P
  --start S  --end E         sample only this window (seconds)
  --model DIR                read patch/merge sizes and mean/std from a checkpoint
  --ffmpeg PATH  --ffprobe PATH  --threads N`;

const OPTIONS = {
  json: { type: 'boolean' },
  dump: { type: 'string' },
  out: { type: 'string' },
  fps: { type: 'string' },
  'min-frames': { type: 'string' },
  'max-frames': { type: 'string' },
  'max-pixels': { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  model: { type: 'string' },
  ffmpeg: { type: 'string' },
  ffprobe: { type: 'string' },
  threads: { type: 'string' },
} as const;


function sampling(values: Record<string, unknown>): SamplingOptions {
  let base: SamplingOptions;
  try {
    base = samplingFromEnv();
  } catch (error) {
    throw new UsageError((error as PlanError).message);
  }
  return {
    fps: numberFlag('fps', values.fps) ?? base.fps,
    minFrames: numberFlag('min-frames', values['min-frames'], { integer: true }) ?? base.minFrames,
    maxFrames: numberFlag('max-frames', values['max-frames'], { integer: true }) ?? base.maxFrames,
    maxPixels: numberFlag('max-pixels', values['max-pixels'], { integer: true }) ?? base.maxPixels,
    start: numberFlag('start', values.start, { allowZero: true }),
    end: numberFlag('end', values.end, { allowZero: true }),
  };
}

/** When frames play, as `probe` reports it: VFR or not, and the planned frames' presentation times. */
interface PlayTimes {
  timing: FrameTiming | undefined;
  presentationSec: number[] | undefined;
}

/** The JSON `vscan probe --json` prints. `vfr` and the offsets are null when the packets could not be listed. */
export function probeJson(probe: VideoProbe, plan: FramePlan, play: PlayTimes) {
  return {
    file: probe.file,
    durationSec: probe.durationSec,
    fps: probe.fps,
    frameCount: probe.frameCount,
    width: probe.width,
    height: probe.height,
    codec: probe.codec,
    hasAudio: probe.hasAudio,
    vfr: play.timing?.vfr ?? null,
    maxFrameOffsetSec: play.timing?.maxOffsetSec ?? null,
    plan: {
      frameIndices: plan.frameIndices,
      frameTimesSec: plan.frameTimesSec,
      presentationSec: play.presentationSec ?? null,
      timestampsSec: plan.timestampsSec,
      timestampText: plan.timestampText,
      resizedWidth: plan.resizedWidth,
      resizedHeight: plan.resizedHeight,
      gridThw: plan.gridThw,
      visualTokens: plan.visualTokens,
    },
  };
}

function describe(probe: VideoProbe, plan: FramePlan, play: PlayTimes): string {
  const vfr = play.timing?.vfr ? `, variable frame rate (frames play up to ${play.timing.maxOffsetSec.toFixed(3)} s from index ÷ fps)` : '';
  return [
    `${probe.file}`,
    `  ${probe.width}×${probe.height} ${probe.codec}${probe.pixelFormat ? ` (${probe.pixelFormat})` : ''}, ${probe.fps.toFixed(3)} fps${vfr}, ${probe.frameCount} frames${probe.frameCountCounted ? ' (counted)' : ''}, ${probe.durationSec.toFixed(3)} s${probe.rotation ? `, rotated ${probe.rotation}°` : ''}`,
    `  audio: ${probe.hasAudio ? probe.audioCodec : 'none'}`,
    `  plan: ${plan.frameIndices.length} frames (${plan.firstFrame}–${plan.lastFrame}) → ${plan.resizedWidth}×${plan.resizedHeight}, grid ${plan.gridThw.join('×')}, ${plan.visualTokens} visual tokens`,
    `  timestamps: ${plan.timestampText.slice(0, 6).join(' ')}${plan.timestampText.length > 6 ? ' …' : ''}`,
  ].join('\n');
}

export async function runVideoCommand(command: 'probe' | 'frames', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  if (positionals.length !== 1) throw new UsageError(`${command} needs exactly one video`);
  const file = positionals[0];
  const geometry = values.model ? await readVisionGeometry(values.model) : undefined;
  const options = {
    sampling: sampling(values),
    geometry,
    ffmpegPath: values.ffmpeg,
    ffprobePath: values.ffprobe,
    threads: numberFlag('threads', values.threads, { integer: true }),
  };
  if (command === 'probe' && !values.dump) {
    const { probe, plan } = await planVideo(file, options.sampling, geometry, { ffprobePath: values.ffprobe });
    const table = await readPacketTable(file, { ffprobePath: values.ffprobe });
    const play = {
      timing: table.times.length === probe.frameCount ? frameTiming(table, probe.fps) : undefined,
      presentationSec: presentationTimes(table, probe.frameCount, plan.frameIndices),
    };
    console.log(values.json ? JSON.stringify(probeJson(probe, plan, play), null, 2) : describe(probe, plan, play));
    return 0;
  }
  const outDir = command === 'probe' ? values.dump! : values.out;
  if (!outDir) throw new UsageError('frames needs --out DIR');
  const prepared = await prepareVideo(file, options);
  await mkdir(outDir, { recursive: true });
  const { plan, pixelValues } = prepared;
  if (command === 'probe') {
    await writeNpy(join(outDir, 'pixel_values.npy'), { dtype: 'float32', data: pixelValues.data, shape: [pixelValues.rows, pixelValues.columns] });
    await writeNpy(join(outDir, 'grid_thw.npy'), { dtype: 'int64', data: pixelValues.gridThw, shape: [1, 3] });
    await writeNpy(join(outDir, 'frame_indices.npy'), { dtype: 'int64', data: plan.frameIndices, shape: [plan.frameIndices.length] });
    console.log(values.json ? JSON.stringify(probeJson(prepared.probe, plan, prepared), null, 2) : `${describe(prepared.probe, plan, prepared)}\n  wrote pixel_values.npy [${pixelValues.rows}, ${pixelValues.columns}], grid_thw.npy, frame_indices.npy to ${outDir}`);
    return 0;
  }
  const width = plan.resizedWidth;
  const height = plan.resizedHeight;
  const digits = String(plan.frameIndices.length).length;
  await Promise.all(prepared.frames.map((rgb, i) =>
    writeFile(join(outDir, `frame-${String(i).padStart(digits, '0')}-index-${plan.frameIndices[i]}.png`), encodePng(rgb, width, height))));
  const sheet = contactSheet(prepared.frames, width, height);
  await writeFile(join(outDir, 'contact-sheet.png'), encodePng(sheet.rgb, sheet.width, sheet.height));
  console.log(`${describe(prepared.probe, plan, prepared)}\n  wrote ${prepared.frames.length} frames (${width}×${height}) and contact-sheet.png to ${outDir}`);
  return 0;
}

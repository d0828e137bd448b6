/**
 * Probing a video with the media worker (or an ffprobe binary a setting names): duration, size, frame rate, codecs. Results are cached by
 * path + size + mtime, concurrent probes of one file share one process, and a cache runs
 * at most a few ffprobe processes at once (the rest wait their turn).
 */
import { stat } from 'node:fs/promises';
import { assertRegularFile, lastLine, mediaInput, runTool, TaskPool, toolCommand, ToolError } from './tools';

export interface VideoProbe {
  file: string;
  durationSec: number;
  /** Display size (after rotation metadata). */
  width: number;
  height: number;
  /** Average frame rate. */
  fps: number;
  /** Frames in the video stream: as the container states it, or counted when it does not. */
  frameCount: number;
  /** Whether frameCount was counted (the container did not state it). */
  frameCountCounted: boolean;
  codec: string;
  pixelFormat: string | undefined;
  hasAudio: boolean;
  audioCodec: string | undefined;
  rotation: number;
}

export class VideoError extends Error {
  override name = 'VideoError';
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
  }
}

export interface ProbeOptions {
  ffprobePath?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  /** Packets counted because the container states no frame count (the media worker's probe). */
  nb_read_packets?: string;
  duration?: string;
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { duration?: string };
}

/** `30000/1001` or `25` → frames per second; 0 when unknown. */
function rate(text: string | undefined): number {
  const [num, den = 1] = (text ?? '').split('/').map(Number);
  const value = num / den;
  return Number.isFinite(value) && value > 0 ? value : 0;
}

function positive(text: string | undefined): number | undefined {
  const value = Number(text);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Reads ffprobe's JSON defensively: every field is checked, nothing is trusted. */
export function interpretProbe(file: string, output: FfprobeOutput): VideoProbe {
  const streams = Array.isArray(output.streams) ? output.streams : [];
  const video = streams.find((s) => s.codec_type === 'video' && s.codec_name !== 'mjpeg' && s.codec_name !== 'png')
    ?? streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!video) throw new VideoError(file, audio ? 'has audio but no video stream' : 'no video stream found');
  const durationSec = positive(output.format?.duration) ?? positive(video.duration);
  if (durationSec === undefined) throw new VideoError(file, 'duration unknown (truncated or not a video?)');
  const rawRotation = video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation ?? Number(video.tags?.rotate ?? 0);
  const rotation = ((Math.round(rawRotation) % 360) + 360) % 360;
  const quarter = rotation === 90 || rotation === 270;
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  return {
    file,
    durationSec,
    width: quarter ? height : width,
    height: quarter ? width : height,
    fps: rate(video.avg_frame_rate) || rate(video.r_frame_rate),
    frameCount: positive(video.nb_frames) ?? 0,
    frameCountCounted: false,
    codec: video.codec_name ?? 'unknown',
    pixelFormat: video.pix_fmt,
    hasAudio: audio !== undefined,
    audioCodec: audio?.codec_name,
    rotation,
  };
}

export async function probeVideo(file: string, options: ProbeOptions = {}): Promise<VideoProbe> {
  let result;
  let ffprobe: string | undefined;
  try {
    const command = toolCommand('ffprobe', options.ffprobePath, 'probe');
    ffprobe = command.kind === 'binary' ? command.path : undefined;
    await assertRegularFile(file);
    const args = ffprobe ? ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', mediaInput(file)] : [mediaInput(file)];
    result = await runTool(command.path, [...command.args, ...args], {
      timeoutMs: options.timeoutMs ?? 20_000,
      signal: options.signal,
      maxStdoutBytes: 4 * 1024 * 1024,
      env: command.env,
    });
  } catch (error) {
    throw new VideoError(file, error instanceof ToolError ? error.message : String(error));
  }
  if (result.exitCode !== 0) throw new VideoError(file, `not a readable video (${lastLine(result.stderr, mediaInput(file))})`);
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(result.stdout.toString('utf8')) as FfprobeOutput;
  } catch {
    throw new VideoError(file, 'ffprobe returned unreadable output');
  }
  const probe = interpretProbe(file, parsed);
  if (!probe.frameCount) {
    // The media worker counts packets itself when the container states no frame count.
    const counted = positive(parsed.streams?.find((s) => s.codec_type === 'video')?.nb_read_packets);
    if (!ffprobe && !counted) throw new VideoError(file, 'cannot count frames (no video packets)');
    probe.frameCount = ffprobe ? await countFrames(ffprobe, file, options) : counted!;
    probe.frameCountCounted = true;
  }
  return probe;
}

/** Counts the video stream's packets (one per frame; no decoding) when the container has no count. */
async function countFrames(ffprobe: string, file: string, options: ProbeOptions): Promise<number> {
  const result = await runTool(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', '--', mediaInput(file)], {
    timeoutMs: options.timeoutMs ?? 120_000,
    signal: options.signal,
    maxStdoutBytes: 4096,
  }).catch((error: unknown) => {
    throw new VideoError(file, error instanceof ToolError ? error.message : String(error));
  });
  const count = Number(result.stdout.toString('utf8').trim().split(/\s+/)[0]);
  if (result.exitCode !== 0 || !Number.isInteger(count) || count < 1) {
    throw new VideoError(file, `cannot count frames (${lastLine(result.stderr)})`);
  }
  return count;
}

/** ffprobe processes one cache runs at once (each is short; more only contend for the cores). */
export const PROBES_AT_ONCE = 4;

/** Probes once per file version (path + size + mtime); failures are cached the same way. */
export class ProbeCache {
  private readonly entries = new Map<string, { key: string; result: Promise<VideoProbe> }>();
  private readonly pool = new TaskPool(PROBES_AT_ONCE);

  constructor(private readonly options: Omit<ProbeOptions, 'signal'> = {}, private readonly maxEntries = 256) {}

  async get(file: string): Promise<VideoProbe> {
    const info = await stat(file);
    // Checked here too so that a FIFO never waits in the pool for its turn to be refused.
    if (!info.isFile()) throw new VideoError(file, 'not a regular file (a FIFO, socket or device); only regular files are read');
    const key = `${info.size}:${info.mtimeMs}`;
    const cached = this.entries.get(file);
    if (cached && cached.key === key) return cached.result;
    const result = this.pool.run(() => probeVideo(file, this.options));
    this.entries.delete(file);
    this.entries.set(file, { key, result });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return result;
  }

  /** The settled probe of this exact file version, without starting one. */
  peek(file: string, size: number, mtimeMs: number): Promise<VideoProbe> | undefined {
    const cached = this.entries.get(file);
    return cached && cached.key === `${size}:${mtimeMs}` ? cached.result : undefined;
  }
}

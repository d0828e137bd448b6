/**
 * Decoding by seeking: for a sparse plan over a video with frequent keyframes, one short
 * decoder run (media worker, or an ffmpeg binary a setting names) per frame (seek to the keyframe before it, decode up to it) costs far less
 * than decoding every frame in one pass. The per-plan choice is a cost estimate in decoded
 * frames from the packet table (presentation times and keyframe flags, read without
 * decoding). Both paths select by frame index, so they return the same frames (a test
 * holds them equal).
 */
import { cpus } from 'node:os';
import type { DecodedFrame, DecodeOptions } from './decode';
import { FrameDispatcher, PpmReader } from './decode';
import { VideoError } from './probe';
import { lastLine, mediaInput, runTool, toolCommand, ToolError } from './tools';

export interface PacketTable {
  /** Presentation time (seconds, stream timeline) of each frame, in presentation order. */
  times: number[];
  /** Whether each frame (presentation order) is a keyframe. */
  keyframe: boolean[];
}

/**
 * Start-up cost of one decoder run and decode cost of one frame, measured on the benchmark
 * clips (docs/benchmarks.md): an ffmpeg run cost ~60 ms, and a media worker run (Node and the
 * FFmpeg addon) costs ~1.85× that (245 against 133 ms for open + first frame, same load);
 * a 1080p H.264 frame ~3 ms, scaling with its pixels. So a run is worth ~40 1080p frames but
 * ~350 360p frames.
 */
const RUN_COST_MS = 120;
const DECODE_MS_PER_MEGAPIXEL = 1.5;
/** Seek only when it is estimated to decode less than half of what one pass decodes. */
const SEEK_ADVANTAGE = 0.5;

export async function readPacketTable(file: string, options: { ffprobePath?: string; signal?: AbortSignal } = {}): Promise<PacketTable> {
  let result;
  try {
    const command = toolCommand('ffprobe', options.ffprobePath, 'packets');
    const args = command.kind === 'worker' ? [mediaInput(file)]
      : ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', '--', mediaInput(file)];
    result = await runTool(command.path, [...command.args, ...args], { timeoutMs: 120_000, signal: options.signal, maxStdoutBytes: 256 * 1024 * 1024, env: command.env });
  } catch (error) {
    throw new VideoError(file, error instanceof ToolError ? error.message : String(error));
  }
  if (result.exitCode !== 0) throw new VideoError(file, `cannot read packets (${lastLine(result.stderr, mediaInput(file))})`);
  const packets: { time: number; key: boolean }[] = [];
  for (const line of result.stdout.toString('utf8').split('\n')) {
    const [time, flags] = line.trim().split(',');
    const value = Number(time);
    if (time && Number.isFinite(value)) packets.push({ time: value, key: (flags ?? '').includes('K') });
  }
  packets.sort((a, b) => a.time - b.time);
  return { times: packets.map((p) => p.time), keyframe: packets.map((p) => p.key) };
}

export interface DecodeChoice {
  method: 'sequential' | 'seek';
  /** Estimated frames decoded by each method. */
  sequentialFrames: number;
  seekFrames: number;
}

/** Estimates both methods' work (in decoded-frame equivalents) for these indices and picks one. */
export function chooseDecodeMethod(indices: readonly number[], table: PacketTable | undefined, frameCount: number, pixelsPerFrame: number): DecodeChoice {
  const runCostFrames = RUN_COST_MS / Math.max(0.01, (pixelsPerFrame / 1e6) * DECODE_MS_PER_MEGAPIXEL);
  const last = Math.max(...indices);
  const sequentialFrames = last + 1;
  if (!table || table.times.length !== frameCount || !table.keyframe.some(Boolean)) {
    return { method: 'sequential', sequentialFrames, seekFrames: Infinity };
  }
  let seekFrames = 0;
  for (const index of new Set(indices)) {
    let key = index;
    while (key > 0 && !table.keyframe[key]) key--;
    seekFrames += index - key + 1 + runCostFrames;
  }
  return { method: seekFrames < sequentialFrames * SEEK_ADVANTAGE ? 'seek' : 'sequential', sequentialFrames, seekFrames };
}

/** Decodes each frame with its own seek. Same contract as decodeFrames. */
export async function decodeFramesBySeeking(file: string, indices: readonly number[], table: PacketTable, onFrame: (frame: DecodedFrame) => void, options: DecodeOptions = {}): Promise<void> {
  const command = toolCommand('ffmpeg', options.ffmpegPath, 'decode');
  const dispatcher = new FrameDispatcher(indices, onFrame);
  const unique = dispatcher.order;
  const concurrency = Math.max(1, Math.min(options.threads ?? cpus().length, 8));
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < unique.length && !failed) {
      const full = options.throttle?.();
      if (full) await full;
      if (failed || next >= unique.length) break;
      const index = unique[next++];
      if (index >= table.times.length) throw new VideoError(file, `frame ${index} is past the last frame (${table.times.length - 1})`);
      // Halfway between this frame's time and the previous one: the first frame at or after
      // it is this frame, whatever rounding the printed times carry.
      const target = index === 0 ? table.times[0] - 1 : (table.times[index - 1] + table.times[index]) / 2;
      const args = command.kind === 'worker' ? [mediaInput(file), '0', target.toFixed(6), '1']
        : ['-nostdin', '-v', 'error', '-threads', '1', '-seek_timestamp', '1', '-ss', target.toFixed(6), '-i', mediaInput(file),
          '-map', '0:v:0', '-an', '-sn', '-dn', '-frames:v', '1', '-vsync', '0', '-f', 'image2pipe', '-c:v', 'ppm', '-pix_fmt', 'rgb24', 'pipe:1'];
      const result = await runTool(command.path, [...command.args, ...args],
        { timeoutMs: options.stallTimeoutMs ?? 60_000, signal: options.signal, maxStdoutBytes: 512 * 1024 * 1024, env: command.env }).catch((error: unknown) => {
        throw new VideoError(file, error instanceof ToolError ? (error.message === 'Cancelled' ? 'decoding cancelled' : error.message) : String(error));
      });
      if (result.exitCode !== 0) throw new VideoError(file, `ffmpeg failed (${lastLine(result.stderr, mediaInput(file))})`);
      const [frame] = new PpmReader().push(result.stdout);
      if (!frame) throw new VideoError(file, `no frame decoded at index ${index} (the file may be truncated)`);
      dispatcher.deliver(index, frame);
    }
  };
  const guarded = () => worker().catch((error: unknown) => {
    failed = true; // the other runners stop after their current frame
    throw error;
  });
  await Promise.all(Array.from({ length: Math.min(concurrency, unique.length) }, guarded));
}

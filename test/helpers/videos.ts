/** Test videos generated with the real ffmpeg from npm. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mediaWorker, resolveTool, runTool } from '../../server/src/video/tools';

export async function tempDir(prefix = 'vscan-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A small H.264 test-pattern clip of `seconds` length. */
export async function makeVideo(path: string, seconds: number, size = '160x120', rate = 10): Promise<string> {
  const ffmpeg = resolveTool('ffmpeg');
  const result = await runTool(ffmpeg, [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}`, '-t', String(seconds),
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', path,
  ], { timeoutMs: 60_000 });
  if (result.exitCode !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  return path;
}

/** The colour of frame `n` in an index video: what proves the right frame was decoded. */
export function indexColor(n: number): [number, number, number] {
  return [n % 256, (n * 37) % 256, 255 - (n % 256)];
}

/**
 * A lossless (FFV1, RGB) video whose frame n is filled with indexColor(n). `timing`
 * optionally rewrites timestamps (an ffmpeg setpts expression) to make it variable-rate.
 */
export async function makeIndexVideo(path: string, frames: number, size = '32x24', rate = 10, timing?: string): Promise<string> {
  const ffmpeg = resolveTool('ffmpeg');
  const filters = [`color=c=black:s=${size}:r=${rate}:d=${frames / rate}`, 'format=rgb24',
    "geq=r='mod(N,256)':g='mod(N*37,256)':b='255-mod(N,256)'"];
  if (timing) filters.push(`setpts='${timing}'`);
  const result = await runTool(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', filters.join(','),
    ...(timing ? ['-vsync', 'vfr'] : []), '-c:v', 'ffv1', '-pix_fmt', 'bgr0', path], { timeoutMs: 60_000 });
  if (result.exitCode !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  return path;
}

/**
 * Shell lines that answer an ffprobe probe (`… -show_streams -- FILE`) through the media
 * worker: no ffprobe binary ships any more, and the tests that wrap "the configured ffprobe"
 * (to log, slow down or count probes) wrap these instead.
 */
export function probeThroughWorker(): string {
  const worker = mediaWorker();
  const quoted = [worker.path, ...worker.args].map((a) => `"${a}"`).join(' ');
  return `for last; do :; done\n${quoted} probe "$last"`;
}

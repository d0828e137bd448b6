/** Test videos generated with the real ffmpeg from npm. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTool, runTool } from '../../server/src/video/tools';

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

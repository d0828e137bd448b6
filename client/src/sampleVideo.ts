/**
 * The walkthrough's sample video: a short test pattern (a moving picture with a frame
 * counter, 8 s, 640×360, H.264) made on request by the media worker (FFmpeg's libraries). An existing file is
 * reused, never replaced. No VS Code API here (the caller picks the folder), so the tests
 * run it with Node alone.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { lastLine, runTool, toolCommand } from '../../server/src/video/tools';

export const SAMPLE_NAME = 'video-scan-sample.mp4';
export const SAMPLE_SECONDS = 8;

/** Makes `folder/video-scan-sample.mp4` unless it exists; answers its path. Throws with ffmpeg's reason when it cannot. */
export async function makeSampleVideo(folder: string, ffmpegPath?: string): Promise<string> {
  const file = join(folder, SAMPLE_NAME);
  if (existsSync(file)) return file;
  await mkdir(folder, { recursive: true });
  const command = toolCommand('ffmpeg', ffmpegPath, 'testpattern');
  // Written under a temporary name and renamed, so a half-made file never looks like the sample.
  const partial = join(folder, `.${SAMPLE_NAME}.${process.pid}.partial.mp4`);
  try {
    const args = command.kind === 'worker' ? [partial, String(SAMPLE_SECONDS)] : ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', String(SAMPLE_SECONDS),
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', partial];
    const result = await runTool(command.path, [...command.args, ...args], { timeoutMs: 120_000, env: command.env });
    if (result.exitCode !== 0) throw new Error(`ffmpeg could not make the sample video ${file}: ${result.stderr.trim() ? lastLine(result.stderr) : `exit ${result.exitCode}`}`);
    // Another window may have made it meanwhile: keep that one.
    if (!existsSync(file)) await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
  return file;
}

/**
 * Preview proxies: VS Code webviews play H.264, VP8, VP9 and AV1 video with Opus or Vorbis
 * audio, but not HEVC, ProRes and friends, nor AAC audio. For such a video the preview
 * plays a proxy — H.264 (capped at 720 lines) with Opus audio — made once by the media worker
 * (or an ffmpeg binary a setting names) and kept in a cache folder, named after the source's identity (path, size, mtime). The
 * annotation keeps pointing at the original.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VideoError, type VideoProbe } from './probe';
import { lastLine, mediaInput, runTool, toolCommand } from './tools';

const PLAYABLE_VIDEO = ['h264', 'vp8', 'vp9', 'av1'];
const PLAYABLE_AUDIO = ['opus', 'vorbis', 'mp3', 'flac'];

/** Why the webview cannot play this video, or undefined when it can. */
export function needsProxy(probe: Pick<VideoProbe, 'codec' | 'hasAudio' | 'audioCodec' | 'pixelFormat'>): string | undefined {
  if (!PLAYABLE_VIDEO.includes(probe.codec)) return `${probe.codec} video`;
  if (probe.codec === 'h264' && probe.pixelFormat && !/^yuvj?420p$/.test(probe.pixelFormat)) return `${probe.pixelFormat} H.264`;
  if (probe.hasAudio && probe.audioCodec && !PLAYABLE_AUDIO.includes(probe.audioCodec)) return `${probe.audioCodec} audio`;
  return undefined;
}

export interface ProxyOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  /** Called with the seconds encoded so far. */
  onProgress?: (seconds: number) => void;
  timeoutMs?: number;
}

/** The proxy of `file` in `cacheDir`, made if missing; returns its path. */
export async function previewProxy(file: string, durationSec: number, cacheDir: string, options: ProxyOptions = {}): Promise<string> {
  const info = await stat(file);
  const key = createHash('sha1').update(`${file}\0${info.size}\0${info.mtimeMs}`).digest('hex').slice(0, 20);
  const target = join(cacheDir, `${key}.mp4`);
  try {
    await stat(target);
    return target;
  } catch {
    // not made yet
  }
  await mkdir(cacheDir, { recursive: true });
  const partial = `${target}.partial.mp4`;
  const command = toolCommand('ffmpeg', options.ffmpegPath, 'proxy');
  const args = command.kind === 'worker' ? [mediaInput(file), partial] : ['-nostdin', '-v', 'error', '-y', '-i', mediaInput(file),
    '-map', '0:v:0', '-map', '0:a:0?', '-vf', "scale='-2:min(720,ih)'", '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p',
    // Opus in MP4 is marked experimental by ffmpeg before 5; browsers play it.
    '-c:a', 'libopus', '-b:a', '96k', '-strict', '-2', '-movflags', '+faststart', partial];
  const result = await runTool(command.path, [...command.args, ...args], { signal: options.signal, timeoutMs: options.timeoutMs ?? Math.max(120_000, durationSec * 5_000), env: command.env })
    .catch(async (error: unknown) => {
      await rm(partial, { force: true });
      throw new VideoError(file, `cannot make a preview proxy (${(error as Error).message})`);
    });
  if (result.exitCode !== 0) {
    await rm(partial, { force: true });
    throw new VideoError(file, `cannot make a preview proxy (${lastLine(result.stderr, mediaInput(file))})`);
  }
  await rename(partial, target);
  options.onProgress?.(durationSec);
  return target;
}

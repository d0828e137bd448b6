/**
 * Small pictures of a video for lists and timelines (the library's thumbnails, the
 * preview's filmstrip): frames decoded by the media worker already scaled down (or by the
 * ffmpeg binary a setting names), and images kept in a cache folder that are whole or
 * absent. One mechanism, so every still is decoded the way the model's frames are: by
 * index, or from the first frame at a time.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeFrames, type DecodedFrame } from './decode';
import { VideoError } from './probe';
import { assertRegularFile } from './tools';

export interface StillOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  /** Give up when no frame arrived for this long (default 20 s). */
  stallTimeoutMs?: number;
}

/** Which frames: by decoded index (the frame plan's), or the first at or after a time in seconds. */
export type StillFrames = { indices: readonly number[] } | { at: number };

/** The frames asked for, `width` pixels wide (aspect kept), in the order asked. */
export async function decodeStills(file: string, frames: StillFrames, width: number, options: StillOptions = {}): Promise<DecodedFrame[]> {
  const out: DecodedFrame[] = [];
  const common = { width, threads: 1, signal: options.signal, ffmpegPath: options.ffmpegPath, stallTimeoutMs: options.stallTimeoutMs ?? 20_000 };
  if ('at' in frames) await decodeFrames(file, [0], (f) => out.push(f), { ...common, startAt: { frame: 0, time: Math.max(0, frames.at) } });
  else await decodeFrames(file, frames.indices, (f) => out.push(f), common);
  return out.sort((a, b) => a.position - b.position);
}

/**
 * The cache file for `file`'s picture described by `parts` (it changes when the video does:
 * path, size and modification time are part of the key), made by `make` if missing.
 * `make` writes the bytes it returns; they are renamed into place, so a reader never sees
 * half a picture and a failed or cancelled try leaves nothing behind.
 */
export async function cachedStill(file: string, cacheDir: string, parts: readonly (string | number)[], extension: string, make: () => Promise<Uint8Array>): Promise<string> {
  await assertRegularFile(file);
  const info = await stat(file);
  const key = createHash('sha1').update([file, info.size, info.mtimeMs, ...parts].join('\0')).digest('hex').slice(0, 20);
  const target = join(cacheDir, `${key}.${extension}`);
  if (await stat(target).then(() => true, () => false)) return target;
  const bytes = await make();
  if (!bytes.length) throw new VideoError(file, 'no picture was made');
  await mkdir(cacheDir, { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  try {
    await writeFile(partial, bytes);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return target;
}

/**
 * The preview's filmstrip: thumbnails of the frames the model is shown (the frame plan,
 * window by window), decoded once with ffmpeg into one JPEG sprite and kept in a cache
 * folder named after the video's identity (path, size, mtime) and the frames chosen. The
 * same `select` by frame index as the caption's decoding, so a thumbnail is the very frame
 * a caption was based on.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { selectExpression } from '../video/decode';
import { VideoError } from '../video/probe';
import { lastLine, mediaInput, resolveTool, runTool } from '../video/tools';

/** Thumbnails per sprite at most: a long video's frames are thinned evenly beyond this. */
export const MAX_THUMBNAILS = 1200;
/** Thumbnail height in pixels (the timeline's row scales it). */
export const THUMB_HEIGHT = 54;
/** Sprite columns: thumbnails run left to right, then the next row. */
const COLUMNS = 40;

export interface FilmstripFrame {
  /** Source frame index (what ffmpeg selects). */
  index: number;
  /** Its time in seconds (where the timeline draws it). */
  time: number;
}

export interface Filmstrip {
  /** The sprite's path. */
  image: string;
  /** The time of each thumbnail, in sprite order (ascending). */
  times: number[];
  tileWidth: number;
  tileHeight: number;
  columns: number;
}

export interface FilmstripOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** At most `limit` frames, evenly spread, in index order, each index once. */
export function thinFrames(frames: readonly FilmstripFrame[], limit = MAX_THUMBNAILS): FilmstripFrame[] {
  const unique = [...new Map(frames.map((f) => [f.index, f])).values()].sort((a, b) => a.index - b.index);
  if (unique.length <= limit) return unique;
  const step = unique.length / limit;
  return Array.from({ length: limit }, (_, i) => unique[Math.floor(i * step)]);
}

/** Thumbnail width for a display size: the aspect kept, even (as encoders want). */
export function thumbWidth(width: number, height: number): number {
  if (!(width > 0 && height > 0)) return Math.round(THUMB_HEIGHT * 16 / 9 / 2) * 2;
  return Math.max(2, Math.min(4 * THUMB_HEIGHT, Math.round((THUMB_HEIGHT * width) / height / 2) * 2));
}

/**
 * The filmstrip of `file` in `cacheDir`, made if missing. `display` is the video's size
 * after rotation (the probe's), for the thumbnails' aspect.
 */
export async function filmstrip(file: string, frames: readonly FilmstripFrame[], display: { width: number; height: number }, cacheDir: string, options: FilmstripOptions = {}): Promise<Filmstrip> {
  const chosen = thinFrames(frames);
  if (!chosen.length) throw new VideoError(file, 'no frames to show');
  const tileWidth = thumbWidth(display.width, display.height);
  const columns = Math.min(COLUMNS, chosen.length);
  const rows = Math.ceil(chosen.length / columns);
  const info = await stat(file);
  const key = createHash('sha1').update(`${file}\0${info.size}\0${info.mtimeMs}\0${tileWidth}\0${chosen.map((f) => f.index).join(',')}`).digest('hex').slice(0, 20);
  const image = join(cacheDir, `${key}.filmstrip.jpg`);
  const result: Filmstrip = { image, times: chosen.map((f) => f.time), tileWidth, tileHeight: THUMB_HEIGHT, columns };
  try {
    await stat(image);
    return result; // decoded once: the cache is keyed on the video's identity and the frames
  } catch {
    // not made yet
  }
  await mkdir(cacheDir, { recursive: true });
  // Written beside, then renamed: a sprite is whole or absent, never half written.
  const partial = `${image}.${process.pid}.partial.jpg`;
  const args = ['-nostdin', '-v', 'error', '-y', '-i', mediaInput(file), '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', `select='${selectExpression(chosen.map((f) => f.index))}',scale=${tileWidth}:${THUMB_HEIGHT},tile=${columns}x${rows}`,
    '-vsync', '0', '-frames:v', '1', '-q:v', '5', partial];
  const ran = await runTool(resolveTool('ffmpeg', options.ffmpegPath), args, { signal: options.signal, timeoutMs: options.timeoutMs ?? 300_000 })
    .catch(async (error: unknown) => {
      await rm(partial, { force: true }); // timed out or cancelled
      throw error;
    });
  if (ran.exitCode !== 0) {
    await rm(partial, { force: true });
    throw new VideoError(file, `cannot make the filmstrip (${lastLine(ran.stderr, mediaInput(file))})`);
  }
  await rename(partial, image);
  return result;
}

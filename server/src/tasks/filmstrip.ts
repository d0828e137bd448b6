/**
 * The preview's filmstrip: thumbnails of the frames the model is shown (the frame plan,
 * window by window), decoded once (through video/stills.ts: the media worker scales them as
 * it decodes) into one PNG sprite, kept in a cache folder named after the video's identity
 * (path, size, mtime) and the frames chosen. Frames are chosen by decoded index, as the
 * caption's decoding chooses them, so a thumbnail is the very frame a caption was based on.
 */
import { encodePng } from '../io/png';
import { VideoError } from '../video/probe';
import { cachedStill, decodeStills } from '../video/stills';

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
  /** Give up when no frame was decoded for this long (default 60 s). */
  stallTimeoutMs?: number;
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
  const image = await cachedStill(file, cacheDir, ['filmstrip', tileWidth, chosen.map((f) => f.index).join(',')], 'filmstrip.png', async () => {
    const stills = await decodeStills(file, { indices: chosen.map((f) => f.index) }, tileWidth, { ...options, stallTimeoutMs: options.stallTimeoutMs ?? 60_000 })
      .catch((error: unknown) => {
        throw new VideoError(file, `cannot make the filmstrip (${error instanceof VideoError ? error.reason : String(error)})`);
      });
    // Tiles left to right, then the next row; a still smaller than its tile (a video
    // narrower than the tile: stills are never enlarged) sits centred on black.
    const spriteWidth = columns * tileWidth;
    const sprite = new Uint8Array(spriteWidth * rows * THUMB_HEIGHT * 3);
    stills.forEach((still, i) => {
      const x0 = (i % columns) * tileWidth + Math.max(0, (tileWidth - still.width) >> 1);
      const y0 = Math.floor(i / columns) * THUMB_HEIGHT + Math.max(0, (THUMB_HEIGHT - still.height) >> 1);
      const w = Math.min(still.width, tileWidth);
      const h = Math.min(still.height, THUMB_HEIGHT);
      for (let y = 0; y < h; y++) sprite.set(still.rgb.subarray(y * still.width * 3, (y * still.width + w) * 3), ((y0 + y) * spriteWidth + x0) * 3);
    });
    return encodePng(sprite, spriteWidth, rows * THUMB_HEIGHT);
  });
  return { image, times: chosen.map((f) => f.time), tileWidth, tileHeight: THUMB_HEIGHT, columns };
}

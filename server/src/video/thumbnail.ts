/**
 * A small still of a video at a time, for lists (the library's search results): the first
 * frame at or after the time, decoded at thumbnail width, kept as a PNG in a cache folder
 * keyed by the file's identity and the time, so it is made once.
 */
import { encodePng } from '../io/png';
import { VideoError } from './probe';
import { cachedStill, decodeStills } from './stills';

/** Thumbnail width in pixels (a QuickPick icon is 16 CSS px; 2× for HiDPI, with room for larger lists). */
export const THUMBNAIL_WIDTH = 96;

/** The thumbnail of `file` at `seconds` in `cacheDir` (a PNG), made if missing; returns its path. */
export async function videoThumbnail(file: string, seconds: number, cacheDir: string, options: { ffmpegPath?: string; signal?: AbortSignal } = {}): Promise<string> {
  const at = Math.max(0, Math.round(seconds * 10) / 10);
  return cachedStill(file, cacheDir, [THUMBNAIL_WIDTH, at], 'png', async () => {
    const [frame] = await decodeStills(file, { at }, THUMBNAIL_WIDTH, options).catch((error: unknown) => {
      throw new VideoError(file, `cannot make a thumbnail at ${at} s (${error instanceof VideoError ? error.reason : String(error)})`);
    });
    if (!frame) throw new VideoError(file, `cannot make a thumbnail at ${at} s (no frame there)`);
    return encodePng(frame.rgb, frame.width, frame.height);
  });
}

/**
 * A small still of a video at a time, for lists (the library's search results): one frame
 * extracted by ffmpeg into a cache folder, keyed by the file's path, size, modification
 * time and the time asked, so it is made once.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VideoError } from './probe';
import { assertRegularFile, lastLine, mediaInput, resolveTool, runTool } from './tools';

/** Thumbnail width in pixels (a QuickPick icon is 16 CSS px; 2× for HiDPI, with room for larger lists). */
export const THUMBNAIL_WIDTH = 96;

/** The thumbnail of `file` at `seconds` in `cacheDir` (a PNG), made if missing; returns its path. */
export async function videoThumbnail(file: string, seconds: number, cacheDir: string, options: { ffmpegPath?: string; signal?: AbortSignal } = {}): Promise<string> {
  await assertRegularFile(file);
  const info = await stat(file);
  const at = Math.max(0, Math.round(seconds * 10) / 10);
  const key = createHash('sha1').update(`${file}\0${info.size}\0${info.mtimeMs}\0${at}`).digest('hex').slice(0, 20);
  const target = join(cacheDir, `${key}.png`);
  if (await stat(target).then(() => true, () => false)) return target;
  await mkdir(cacheDir, { recursive: true });
  const partial = `${target}.${process.pid}.partial.png`;
  // -ss before -i seeks by keyframe then decodes to the time: fast and exact enough for a still.
  const args = ['-nostdin', '-v', 'error', '-y', '-ss', String(at), '-i', mediaInput(file), '-frames:v', '1', '-vf', `scale=${THUMBNAIL_WIDTH}:-2`, '-f', 'image2', '-c:v', 'png', partial];
  const result = await runTool(resolveTool('ffmpeg', options.ffmpegPath), args, { signal: options.signal, timeoutMs: 20_000 });
  if (result.exitCode !== 0 || !(await stat(partial).then((s) => s.size > 0, () => false))) {
    await rm(partial, { force: true });
    throw new VideoError(file, `cannot make a thumbnail at ${at} s (${result.exitCode === 0 ? 'no frame there' : lastLine(result.stderr, mediaInput(file))})`);
  }
  await rename(partial, target);
  return target;
}

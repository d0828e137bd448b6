/**
 * Writing a caption as `clip.vscan` beside `clip.mp4`, without ever replacing a file the
 * user may have edited: the new file gets the first free name (`clip.vscan`, `clip.2.vscan`,
 * …), created atomically with a hard link that fails if the name is taken.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { formatTime } from '../language';
import type { CaptionResult } from './parse';
import type { WindowCaption } from './windows';

/** One line of text: whitespace and control characters become single spaces. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
}

/**
 * The `Video:` header for a video name, or a comment when the name cannot be one: a line
 * break in it would end the header and start new lines of the user's choosing. Without
 * the header the file still links the video, by its base name beside it.
 */
function videoHeader(videoName: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f\u2028\u2029]/.test(videoName)) return `Video: ${videoName}`;
  // eslint-disable-next-line no-control-regex
  const escaped = videoName.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `# The video's name has a line break or control character, so there is no Video: header: ${escaped}`;
}

/** The .vscan text of a caption. An answer off the trained format is kept as the Scene text, commented. */
export function captionToVscan(result: Pick<CaptionResult, 'scene' | 'events' | 'format_ok' | 'caption'>, videoName: string, header: Record<string, string> = {}): string {
  const lines = [videoHeader(videoName), ...Object.entries(header).map(([k, v]) => `${k}: ${oneLine(v)}`), ''];
  if (!result.format_ok) lines.push('# The model did not answer in the trained format; its answer is kept below as written.');
  lines.push(`Scene: ${oneLine(result.scene || result.caption)}`, 'Events:');
  for (const event of result.events) lines.push(`<${formatTime(event.start)} - ${formatTime(event.end)}> ${oneLine(event.description)}`);
  return lines.join('\n') + '\n';
}

/** The .vscan text of a windowed caption: one `Scene <start - end>:` block per window. */
export function windowsToVscan(captions: readonly WindowCaption[], videoName: string, header: Record<string, string> = {}): string {
  if (captions.length === 1) {
    const [only] = captions;
    return captionToVscan({ scene: only.scene, events: only.events, format_ok: only.format_ok, caption: only.scene }, videoName, header);
  }
  const lines = [videoHeader(videoName), ...Object.entries(header).map(([k, v]) => `${k}: ${oneLine(v)}`)];
  for (const c of captions) {
    lines.push('');
    if (!c.format_ok) lines.push('# The model did not answer in the trained format for this window; its answer is kept as written.');
    lines.push(`Scene <${formatTime(c.window.start)} - ${formatTime(c.window.end)}>: ${oneLine(c.scene)}`, 'Events:');
    for (const e of c.events) lines.push(`<${formatTime(e.start)} - ${formatTime(e.end)}> ${oneLine(e.description)}`);
  }
  return lines.join('\n') + '\n';
}

/** `clip.vscan` for `clip.mp4`, then `clip.2.vscan`, `clip.3.vscan`, … */
export function candidateNames(videoPath: string, limit = 1000): string[] {
  const base = join(dirname(videoPath), basename(videoPath, extname(videoPath)));
  return Array.from({ length: limit }, (_, i) => (i === 0 ? `${base}.vscan` : `${base}.${i + 1}.vscan`));
}

/** Writes `text` to the first free name among `candidates`; returns the path written. Leaves no temporary file, whatever fails. */
export async function writeNewFile(candidates: readonly string[], text: string): Promise<string> {
  if (!candidates.length) throw new Error('no file name to write to');
  const temp = join(dirname(candidates[0]), `.${basename(candidates[0])}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text); // a full disk fails here, possibly after creating the file: removed below
    for (const path of candidates) {
      try {
        await link(temp, path); // fails with EEXIST instead of replacing
        return path;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new Error(`${candidates[0]}: all ${candidates.length} candidate names are taken`);
  } finally {
    await rm(temp, { force: true });
  }
}

/** A one-line reason from a file system error (`ENOSPC: no space left on device`). */
function reasonOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code}${e.syscall ? ` on ${e.syscall}` : ''}` : String((error as Error).message ?? error).split('\n')[0];
}

/**
 * Fails early, before the model runs for minutes, when the caption could not be written:
 * the folder of the first candidate must exist and be writable.
 */
export async function checkWritableTarget(candidates: readonly string[]): Promise<void> {
  const folder = dirname(candidates[0]);
  try {
    if (!(await stat(folder)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR', syscall: 'stat' });
    await access(folder, constants.W_OK);
  } catch (error) {
    throw new Error(`${folder}: cannot write the caption there (${reasonOf(error)}); choose another folder or --out file`);
  }
}

/** Where captions that could not be written where asked are kept: the user's state folder, not a cache that may be cleaned. */
export function unsavedCaptionsDir(): string {
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'video-scan', 'unsaved');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'video-scan', 'unsaved');
  return join(process.env.XDG_STATE_HOME || join(home, '.local', 'state'), 'video-scan', 'unsaved');
}

/** Where a caption ended up: `path` when written, `notice` when it is not where it was asked (one line saying where and why). */
export interface KeptCaption {
  path?: string;
  notice?: string;
}

/**
 * Writes a caption to the first free candidate; when that fails (disk full, read-only
 * folder), keeps it in `fallbackDir` and says so. Only when both fail is `path` undefined:
 * the caller still holds the text and must hand it to the user (an untitled editor, stdout).
 */
export async function writeCaptionKeepingResult(candidates: readonly string[], text: string, fallbackDir = unsavedCaptionsDir()): Promise<KeptCaption> {
  try {
    return { path: await writeNewFile(candidates, text) };
  } catch (first) {
    const why = `${candidates[0]}: could not write the caption (${reasonOf(first)})`;
    try {
      await mkdir(fallbackDir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const name = `${basename(candidates[0], '.vscan')}-${stamp}`;
      const kept = await writeNewFile(candidateNames(join(fallbackDir, `${name}.vscan`), 100), text);
      return { path: kept, notice: `${why}; kept it in ${kept}` };
    } catch (second) {
      return { notice: `${why}, nor in ${fallbackDir} (${reasonOf(second)})` };
    }
  }
}

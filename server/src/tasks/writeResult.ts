/**
 * Writing a caption as `clip.vscan` beside `clip.mp4`, without ever replacing a file the
 * user may have edited: the new file gets the first free name (`clip.vscan`, `clip.2.vscan`,
 * …), created atomically with a hard link that fails if the name is taken.
 */
import { randomBytes } from 'node:crypto';
import { link, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { formatTime } from '../language';
import type { CaptionResult } from './parse';
import type { WindowCaption } from './windows';

/** One line of text: whitespace and control characters become single spaces. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** The .vscan text of a caption. An answer off the trained format is kept as the Scene text, commented. */
export function captionToVscan(result: Pick<CaptionResult, 'scene' | 'events' | 'format_ok' | 'caption'>, videoName: string, header: Record<string, string> = {}): string {
  const lines = [`Video: ${videoName}`, ...Object.entries(header).map(([k, v]) => `${k}: ${oneLine(v)}`), ''];
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
  const lines = [`Video: ${videoName}`, ...Object.entries(header).map(([k, v]) => `${k}: ${oneLine(v)}`)];
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

/** Writes `text` to the first free name among `candidates`; returns the path written. */
export async function writeNewFile(candidates: readonly string[], text: string): Promise<string> {
  if (!candidates.length) throw new Error('no file name to write to');
  const temp = join(dirname(candidates[0]), `.${basename(candidates[0])}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, text);
  try {
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

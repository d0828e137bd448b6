/**
 * Annotations in and out of `.vscan`: WebVTT and SRT subtitles, dense-captioning JSON
 * (ActivityNet Captions' `{video: {duration, timestamps, sentences}}`) and JSON Lines (one
 * record per event). Pure text in, text out; docs/library.md has each layout.
 * Times are kept to the millisecond, the finest both subtitle formats write.
 */
import { parse as parseSubtitles } from '@plussub/srt-vtt-parser';
import type { VscanDocument } from '../language';
import { findHeader } from '../language';

export type ExportFormat = 'vtt' | 'srt' | 'json' | 'jsonl';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['vtt', 'srt', 'json', 'jsonl'];

/** An event as it crosses formats. */
export interface AnnotationEvent {
  start: number;
  end: number;
  description: string;
}

/** One video's annotation, format-neutral. */
export interface Annotation {
  /** The video's file name (as the `Video:` header or the dense-captioning key names it); empty when unknown. */
  video: string;
  /** Seconds, when known (dense-captioning JSON requires it). */
  duration?: number;
  /** The Scene paragraphs, joined. */
  scene?: string;
  events: AnnotationEvent[];
}

/** Most events read from one imported file: a bound on what an input makes us hold and write. */
export const MAX_IMPORTED_EVENTS = 200_000;

export class AnnotationFormatError extends Error {
  override name = 'AnnotationFormatError';
}

/** The annotation a parse holds: events with both times, in document order; Scene paragraphs joined. */
export function annotationOf(doc: VscanDocument, fallbackVideo: string): Annotation {
  const events = doc.events
    .filter((e) => e.startValue !== undefined && e.endValue !== undefined)
    .map((e) => ({ start: e.startValue!, end: e.endValue!, description: e.description.trim() }));
  const scene = doc.blocks.map((b) => b.text.trim()).filter(Boolean).join(' ');
  return { video: findHeader(doc, 'video')?.value || fallbackVideo, events, ...(scene ? { scene } : {}) };
}

/** Whole milliseconds: both subtitle formats count time in them. */
const millis = (seconds: number) => Math.max(0, Math.round(seconds * 1000));

/** `HH:MM:SS.mmm` (WebVTT) or `HH:MM:SS,mmm` (SRT). */
export function subtitleTime(seconds: number, separator: '.' | ','): string {
  const ms = millis(seconds);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

/** WebVTT cue text: `&`, `<` and `>` are escaped (a bare `-->` would end the cue's timing line otherwise). */
const vttText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function toWebVtt(annotation: Annotation): string {
  const cues = annotation.events.map((e, i) => `${i + 1}\n${subtitleTime(e.start, '.')} --> ${subtitleTime(e.end, '.')}\n${vttText(e.description)}\n`);
  return ['WEBVTT\n', ...cues].join('\n');
}

export function toSrt(annotation: Annotation): string {
  // SRT has no escaping; a description is one line already (a .vscan event is), so it cannot end the cue.
  return annotation.events.map((e, i) => `${i + 1}\n${subtitleTime(e.start, ',')} --> ${subtitleTime(e.end, ',')}\n${e.description}\n`).join('\n');
}

/** Seconds rounded to the millisecond, as numbers (so 2.5 stays 2.5 and 0.1 + 0.2 does not show). */
const seconds = (value: number) => Math.round(value * 1000) / 1000;

/** Dense-captioning JSON: one key per video (ActivityNet Captions' layout, plus our optional `scene`). */
export function toDenseCaptions(annotations: readonly Annotation[]): string {
  const out: Record<string, unknown> = {};
  for (const a of annotations) {
    out[a.video] = {
      duration: seconds(a.duration ?? Math.max(0, ...a.events.map((e) => e.end))),
      timestamps: a.events.map((e) => [seconds(e.start), seconds(e.end)]),
      sentences: a.events.map((e) => e.description),
      ...(a.scene ? { scene: a.scene } : {}),
    };
  }
  return JSON.stringify(out) + '\n';
}

/** JSON Lines: one `{video, start, end, description}` record per event. */
export function toJsonLines(annotations: readonly Annotation[]): string {
  return annotations.flatMap((a) => a.events.map((e) => JSON.stringify({ video: a.video, start: seconds(e.start), end: seconds(e.end), description: e.description }) + '\n')).join('');
}

/** One annotation (subtitles) or many (JSON, JSON Lines) in `format`. */
export function exportAnnotations(annotations: readonly Annotation[], format: ExportFormat): string {
  if (format === 'json') return toDenseCaptions(annotations);
  if (format === 'jsonl') return toJsonLines(annotations);
  if (annotations.length !== 1) throw new AnnotationFormatError(`${format} holds one video's events; export a folder as json or jsonl, or one file at a time`);
  return format === 'vtt' ? toWebVtt(annotations[0]) : toSrt(annotations[0]);
}

// ---- import ----

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', nbsp: '\u00a0', lrm: '\u200e', rlm: '\u200f' };

/** A cue's text as one line of description: WebVTT tags removed and entities decoded; SRT's formatting tags removed. */
function cueDescription(text: string, format: 'vtt' | 'srt'): string {
  const untagged = format === 'vtt'
    ? text.replace(/<[^>\n]*>/g, '').replace(/&(amp|lt|gt|nbsp|lrm|rlm);/g, (_, name: string) => ENTITIES[name])
    : text.replace(/<\/?(i|b|u|font)(\s[^>\n]*)?>/gi, '').replace(/\{\\[^}\n]*\}/g, '');
  // eslint-disable-next-line no-control-regex
  return untagged.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** What kind of annotation file `text` is, by its name and then its content. */
export function detectImportFormat(name: string, text: string): 'vtt' | 'srt' | 'json' | 'jsonl' {
  const lower = name.toLowerCase();
  for (const ext of ['vtt', 'srt', 'jsonl', 'json'] as const) if (lower.endsWith(`.${ext}`)) return ext;
  const head = text.replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('WEBVTT')) return 'vtt';
  if (head.startsWith('{') && head.includes('\n{')) return 'jsonl';
  if (head.startsWith('{')) return 'json';
  return 'srt';
}

function checkedEvent(file: string, where: string, start: unknown, end: unknown, description: unknown): AnnotationEvent {
  if (typeof start !== 'number' || typeof end !== 'number' || !Number.isFinite(start) || !Number.isFinite(end)) throw new AnnotationFormatError(`${file}: ${where}: times must be numbers of seconds`);
  if (typeof description !== 'string') throw new AnnotationFormatError(`${file}: ${where}: the description must be a string`);
  // eslint-disable-next-line no-control-regex
  return { start, end, description: description.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim() };
}

function capped<T>(file: string, items: T[]): T[] {
  if (items.length > MAX_IMPORTED_EVENTS) throw new AnnotationFormatError(`${file}: holds ${items.length} events, more than the ${MAX_IMPORTED_EVENTS} one import takes`);
  return items;
}

/** Reads an annotation file. `defaultVideo` names the video of a subtitle file (which does not say). Throws AnnotationFormatError naming `file` and what is wrong. */
export function importAnnotations(file: string, text: string, defaultVideo: string): Annotation[] {
  const format = detectImportFormat(file, text);
  if (format === 'vtt' || format === 'srt') {
    const body = text.replace(/^\uFEFF/, '');
    if (format === 'vtt' && !body.startsWith('WEBVTT')) throw new AnnotationFormatError(`${file}: a WebVTT file starts with "WEBVTT"`);
    const unreadable = () => new AnnotationFormatError(`${file}: no ${format === 'vtt' ? 'WebVTT' : 'SRT'} cue could be read (expected "00:00:01${format === 'vtt' ? '.' : ','}000 --> 00:00:02${format === 'vtt' ? '.' : ','}000" timing lines)`);
    let entries;
    try {
      entries = parseSubtitles(body).entries; // the parser throws on some malformed timing lines
    } catch {
      throw unreadable();
    }
    if (!entries.length && body.trim() && body.trim() !== 'WEBVTT') throw unreadable();
    const events = capped(file, entries)
      .map((e) => ({ start: e.from / 1000, end: e.to / 1000, description: cueDescription(e.text, format) }))
      .filter((e) => e.description);
    return [{ video: defaultVideo, events }];
  }
  if (format === 'jsonl') {
    const byVideo = new Map<string, Annotation>();
    const lines = text.split(/\r?\n/);
    capped(file, lines);
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let record: { video?: unknown; start?: unknown; end?: unknown; description?: unknown };
      try {
        record = JSON.parse(line);
      } catch (error) {
        throw new AnnotationFormatError(`${file}: line ${i + 1}: not JSON (${(error as Error).message})`);
      }
      const video = typeof record.video === 'string' && record.video ? record.video : defaultVideo;
      const annotation = byVideo.get(video) ?? { video, events: [] };
      annotation.events.push(checkedEvent(file, `line ${i + 1}`, record.start, record.end, record.description));
      byVideo.set(video, annotation);
    });
    return [...byVideo.values()];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AnnotationFormatError(`${file}: not JSON (${(error as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AnnotationFormatError(`${file}: expected an object {video: {duration, timestamps, sentences}}`);
  let total = 0;
  return Object.entries(parsed as Record<string, unknown>).map(([video, value]) => {
    const entry = value as { duration?: unknown; timestamps?: unknown; sentences?: unknown; scene?: unknown };
    if (!entry || !Array.isArray(entry.timestamps) || !Array.isArray(entry.sentences)) throw new AnnotationFormatError(`${file}: "${video}" needs timestamps and sentences arrays`);
    if (entry.timestamps.length !== entry.sentences.length) throw new AnnotationFormatError(`${file}: "${video}" has ${entry.timestamps.length} timestamps but ${entry.sentences.length} sentences`);
    total += entry.timestamps.length;
    if (total > MAX_IMPORTED_EVENTS) capped(file, { length: total } as unknown[]);
    const events = entry.timestamps.map((pair: unknown, i: number) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new AnnotationFormatError(`${file}: "${video}" timestamp ${i + 1} is not a [start, end] pair`);
      return checkedEvent(file, `"${video}" event ${i + 1}`, pair[0], pair[1], (entry.sentences as unknown[])[i]);
    });
    return { video, events, ...(typeof entry.duration === 'number' ? { duration: entry.duration } : {}), ...(typeof entry.scene === 'string' && entry.scene ? { scene: entry.scene } : {}) };
  });
}

/** Fewest decimals (1 to 3) that write `value` to the millisecond. */
function digitsFor(value: number): number {
  const ms = Math.round(value * 1000);
  return ms % 100 === 0 ? 1 : ms % 10 === 0 ? 2 : 3;
}

/** The `.vscan` text of an imported annotation. */
export function annotationToVscan(annotation: Annotation, source: string): string {
  const time = (v: number) => (Math.round(v * 1000) / 1000).toFixed(digitsFor(v));
  // eslint-disable-next-line no-control-regex
  const oneLine = (text: string) => text.replace(/[\s\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  // Without a video name (subtitles with no video beside them) the file links its video by base name.
  const header = annotation.video ? [`Video: ${oneLine(annotation.video)}`] : [];
  const scene = oneLine(annotation.scene ?? '');
  const lines = [...header, `Source: ${oneLine(source)}`, '', scene ? `Scene: ${scene}` : 'Scene:', 'Events:'];
  for (const e of annotation.events) lines.push(`<${time(e.start)} - ${time(e.end)}> ${oneLine(e.description)}`);
  return lines.join('\n') + '\n';
}

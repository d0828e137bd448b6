/**
 * Export and import on disk, shared by `vscan export|import` and the editor's commands:
 * reads `.vscan` files through the language service's parse, writes new files atomically
 * and never over an existing `.vscan` (an export replaces its own output only when asked).
 * Every failure is an AnnotationFormatError with one line naming the file and what is wrong.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { parseVscan } from '../language';
import { readRegularFile } from '../io/regularFile';
import { writeNewFile } from '../tasks/writeResult';
import { probeVideo } from '../video/probe';
import { writeFileAtomic } from '../workspace/atomicWrite';
import { linkedVideoPath, siblingVideos } from '../workspace/videoContext';
import { type Annotation, AnnotationFormatError, annotationOf, annotationToVscan, type ExportFormat, exportAnnotations, importAnnotations } from './formats';

/** Largest annotation file read for export or import (as `vscan check` reads). */
export const MAX_TRANSFER_FILE_BYTES = 256 * 1024 * 1024;
/** Most `.vscan` files one export reads. */
export const MAX_EXPORT_FILES = 20_000;

async function readText(file: string): Promise<string> {
  const bytes = await readRegularFile(file, MAX_TRANSFER_FILE_BYTES, (message) => new AnnotationFormatError(message)).catch((error: unknown) => {
    throw error instanceof AnnotationFormatError ? error : new AnnotationFormatError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  });
  if (!bytes) throw new AnnotationFormatError(`${file}: no such file`);
  return bytes.toString('utf8');
}

/** A `.vscan` file's annotation: its video named relative to `root`; its duration probed when `probe` and the video is there. */
export async function annotationOfFile(file: string, root: string, probe: false | { ffprobePath?: string }): Promise<Annotation> {
  const doc = parseVscan(await readText(file));
  const linked = linkedVideoPath(doc, file, await siblingVideos(dirname(file)));
  const videoPath = linked?.path ?? join(dirname(file), basename(file, '.vscan'));
  const annotation: Annotation = { ...annotationOf(doc, ''), video: relative(root, videoPath) || basename(videoPath) };
  if (probe && linked) {
    const info = await probeVideo(linked.path, { ffprobePath: probe.ffprobePath }).catch(() => undefined); // absent or unreadable: the last event's end stands in
    if (info) annotation.duration = info.durationSec;
  }
  return annotation;
}

/** Creates `path` with `text`; an existing file is replaced only when `replace` (and never a `.vscan`). */
async function createFile(path: string, text: string, replace: boolean): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  if (replace && !path.endsWith('.vscan')) return writeFileAtomic(path, text);
  try {
    await writeNewFile([path], text);
  } catch (error) {
    if (/candidate names are taken/.test((error as Error).message)) {
      throw new AnnotationFormatError(path.endsWith('.vscan') ? `${path}: exists; a .vscan is never replaced (choose another name)` : `${path}: exists; not replaced (--force replaces it)`);
    }
    throw error;
  }
}

async function vscanFilesUnder(folder: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.vscan')) continue;
    if (files.length >= MAX_EXPORT_FILES) throw new AnnotationFormatError(`${folder}: holds more than ${MAX_EXPORT_FILES} .vscan files; export its folders one by one`);
    files.push(join(entry.parentPath ?? folder, entry.name));
  }
  return files.sort();
}

export interface ExportOptions {
  /** A file (or, for subtitles of a folder, a folder); absent: the text is returned (subtitles of a folder go beside each .vscan). */
  out?: string;
  /** Replace an existing output file (never a .vscan). */
  replace?: boolean;
  /** Probe videos for the dense-captioning `duration` (false in an untrusted workspace: no ffprobe runs). */
  probe: false | { ffprobePath?: string };
}

export interface ExportResult {
  /** The exported text, when no file was written. */
  text?: string;
  written: string[];
  /** One line per `.vscan` left out, and why. */
  notes: string[];
}

/** Exports a `.vscan` file or every `.vscan` under a folder. */
export async function exportPath(input: string, format: ExportFormat, options: ExportOptions): Promise<ExportResult> {
  const info = await stat(input).catch(() => { throw new AnnotationFormatError(`${input}: no such file or folder`); });
  const folder = info.isDirectory();
  const root = folder ? input : dirname(input);
  const files = folder ? await vscanFilesUnder(input) : [input];
  const perFile = folder && (format === 'vtt' || format === 'srt');
  const annotations: Annotation[] = [];
  const kept: string[] = [];
  const notes: string[] = [];
  const byVideo = new Map<string, string>();
  for (const file of files) {
    const annotation = await annotationOfFile(file, root, format === 'json' && options.probe);
    // One record per video: a second .vscan of the same video would collide with the first as a JSON key.
    const first = byVideo.get(annotation.video);
    if (first && !perFile) {
      notes.push(`not exported: ${file} annotates ${annotation.video}, as ${first} does`);
      continue;
    }
    byVideo.set(annotation.video, file);
    annotations.push(annotation);
    kept.push(file);
  }
  if (perFile) {
    // One subtitle file per .vscan: beside it, or under `out` keeping the folder's layout.
    const written: string[] = [];
    for (const [i, file] of kept.entries()) {
      const target = (options.out ? join(options.out, relative(root, file)) : file).replace(/\.vscan$/, `.${format}`);
      await createFile(target, exportAnnotations([annotations[i]], format), options.replace === true);
      written.push(target);
    }
    return { written, notes };
  }
  const text = exportAnnotations(annotations, format);
  if (!options.out) return { text, written: [], notes };
  await createFile(options.out, text, options.replace === true);
  return { written: [options.out], notes };
}

/**
 * Imports an SRT, WebVTT, dense-captioning JSON or JSON Lines file as `.vscan` files: one per
 * video, beside the file (or in `out`: a folder, or a `.vscan` name for a single video).
 * Never writes over an existing `.vscan`.
 */
export async function importFile(file: string, out?: string): Promise<{ written: string[]; events: number[] }> {
  const text = await readText(file);
  const base = basename(file, extname(file));
  // A subtitle file does not name its video: the one with its base name beside it, else none (the .vscan then links by base name).
  const defaultVideo = (await siblingVideos(dirname(file))).find((name) => basename(name, extname(name)) === base) ?? '';
  const annotations = importAnnotations(file, text, defaultVideo);
  if (!annotations.length) throw new AnnotationFormatError(`${file}: holds no video's events`);
  const outIsFile = out !== undefined && out.endsWith('.vscan');
  if (outIsFile && annotations.length > 1) throw new AnnotationFormatError(`${file}: holds ${annotations.length} videos; name a folder for them, not one .vscan`);
  const folder = outIsFile ? dirname(out) : out ?? dirname(file);
  const written: string[] = [];
  for (const annotation of annotations) {
    const target = outIsFile ? out : join(folder, `${(annotation.video || base).replace(/\.[^./\\]+$/, '')}.vscan`);
    // The Video: header stays true from where the .vscan is written.
    const video = annotation.video && relative(dirname(target), resolve(folder, annotation.video));
    await createFile(target, annotationToVscan({ ...annotation, video }, basename(file)), false);
    written.push(target);
  }
  return { written, events: annotations.map((a) => a.events.length) };
}

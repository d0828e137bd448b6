/** `vscan search`, `vscan export`, `vscan import`: the library of `.vscan` files from the command line. */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isVideoFileName, parseVscan } from '../language';
import { readRegularFile } from '../io/regularFile';
import { type Annotation, AnnotationFormatError, annotationOf, annotationToVscan, type ExportFormat, EXPORT_FORMATS, exportAnnotations, importAnnotations } from '../library/formats';
import { groundHits, type RankedHit } from '../library/grounding';
import { indexFileFor, loadIndex, MAX_INDEXED_FILE_BYTES, saveIndex, syncLibrary } from '../library/libraryFolders';
import { defaultGraphCacheDir } from '../model/runtime/graphCache';
import { resolveModelDir } from '../model/acquire/resolveModel';
import { VideoModel } from '../tasks/videoTasks';
import { writeNewFile } from '../tasks/writeResult';
import { writeFileAtomic } from '../workspace/atomicWrite';
import { linkedVideoPath } from '../workspace/videoContext';
import { samplingFromEnv } from '../video/plan';
import { probeVideo } from '../video/probe';
import { expandPaths, isVscanName } from './files';
import { choiceFlag, numberFlag, RUNTIME_FLAGS, runtimeFlags, UsageError } from './usage';

export const LIBRARY_HELP = `  vscan search "<query>" [folder|file]... [--json] [--limit N] [--ground K --model MODEL] [--index-dir DIR]
                events and Scene paragraphs of every .vscan below the folders (default: here), best first;
                --json: [{video, vscan, start, end, description, score, grounded, kind, line}];
                --ground K: the model checks the best K in their videos and re-ranks them
  vscan export <file|folder> --to vtt|srt|json|jsonl [--out PATH] [--force]
                json: dense captions {video: {duration, timestamps, sentences}}; jsonl: one event per line;
                without --out, to standard output (vtt/srt of a folder: beside each .vscan)
  vscan import <file.srt|.vtt|.json|.jsonl> [--out PATH]   writes .vscan files, never over an existing one`;

/** Where the CLI keeps search indexes: beside the graph cache (`~/.cache/video-scan/search/`). */
export function defaultIndexRoot(): string {
  return dirname(defaultGraphCacheDir());
}

/** One search result as `--json` prints it. */
export interface SearchResultJson {
  video: string | null;
  vscan: string;
  start: number;
  end: number;
  description: string;
  score: number;
  grounded: boolean;
  kind: 'event' | 'scene';
  line: number;
  span?: [number, number];
}

async function runSearch(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { json: { type: 'boolean' }, limit: { type: 'string' }, ground: { type: 'string' }, model: { type: 'string' }, 'index-dir': { type: 'string' }, ...RUNTIME_FLAGS },
  });
  const [query, ...folders] = positionals;
  if (!query?.trim()) throw new UsageError('search needs a query: vscan search "a dog jumps into the water" [folders…]');
  const limit = numberFlag('limit', values.limit, { integer: true }) ?? 20;
  const ground = numberFlag('ground', values.ground, { integer: true });
  if (ground !== undefined && !values.model) throw new UsageError('--ground needs --model MODEL (a checkpoint folder or a Hub id)');
  const roots = folders.length ? folders : ['.'];
  for (const root of roots) await stat(root).catch(() => { throw new UsageError(`${root}: no such file or folder`); });
  const indexFile = indexFileFor(values['index-dir'] ?? defaultIndexRoot(), roots);
  const index = await loadIndex(indexFile);
  const report = await syncLibrary(index, roots);
  if (report.indexed || report.removed) await saveIndex(indexFile, index);
  if (!values.json) {
    for (const { file, reason } of report.skipped) console.error(`not indexed: ${reason.startsWith(file) ? reason : `${file}: ${reason}`}`);
    if (report.truncated) console.error(`the library is incomplete: ${report.truncated}`);
  }
  const hits = index.search(query, Math.max(limit, ground ?? 0));
  let ranked: RankedHit[] = hits.map((h) => ({ ...h, grounded: false }));
  if (ground !== undefined) {
    const model = await VideoModel.load(await resolveModelDir(values.model!), runtimeFlags(values));
    const sampling = samplingFromEnv();
    ranked = await groundHits(hits, ground, async (video, window) => {
      try {
        const found = await model.findWithin(video, query, window, { sampling });
        return { span: found.span, format_ok: found.format_ok };
      } catch (error) {
        if (!values.json) console.error(`not grounded: ${video}: ${(error as Error).message.split('\n')[0]}`);
        return { span: null, format_ok: false };
      }
    });
  }
  const results: SearchResultJson[] = ranked.slice(0, limit).map((h) => ({
    video: h.video ?? null, vscan: h.vscan, start: h.start, end: h.end, description: h.text, score: h.score, grounded: h.grounded, kind: h.kind, line: h.line,
    ...(h.span ? { span: h.span } : {}),
  }));
  if (values.json) console.log(JSON.stringify(results));
  else {
    for (const r of results) console.log(`${relative('.', r.vscan)}:${r.line + 1}  <${r.start} - ${r.end}>  ${r.description}${r.grounded ? `  (model: ${r.span![0].toFixed(1)} – ${r.span![1].toFixed(1)} s)` : ''}`);
    if (!results.length) console.log(`no events match "${query}" in ${index.size.files} .vscan files`);
  }
  return 0;
}

async function readVscan(file: string): Promise<string> {
  const bytes = await readRegularFile(file, MAX_INDEXED_FILE_BYTES * 128, (message) => new UsageError(message));
  if (!bytes) throw new UsageError(`${file}: no such file`);
  return bytes.toString('utf8');
}

/** A `.vscan` file's annotation: its video named relative to `root`, its duration probed when the video is there. */
async function annotationFor(file: string, root: string, withDuration: boolean): Promise<Annotation> {
  const doc = parseVscan(await readVscan(file));
  const siblings = (await readdir(dirname(file)).catch(() => [] as string[])).filter(isVideoFileName);
  const linked = linkedVideoPath(doc, file, siblings);
  const videoPath = linked?.path ?? join(dirname(file), basename(file, '.vscan'));
  const annotation = { ...annotationOf(doc, ''), video: relative(root, videoPath) || basename(videoPath) };
  if (withDuration && linked) {
    const probe = await probeVideo(linked.path).catch(() => undefined); // absent or unreadable: the last event's end stands in
    if (probe) annotation.duration = probe.durationSec;
  }
  return annotation;
}

/** Creates `path` with `text`, never replacing a file there unless `force`. */
async function writeOutput(path: string, text: string, force: boolean): Promise<void> {
  if (force) return writeFileAtomic(path, text);
  try {
    await writeNewFile([path], text);
  } catch (error) {
    if (/candidate names are taken/.test((error as Error).message)) throw new UsageError(`${path}: exists; not replaced (--force replaces it)`);
    throw error;
  }
}

async function runExport(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { to: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('export needs one .vscan file or folder');
  if (!values.to) throw new UsageError(`export needs --to ${EXPORT_FORMATS.join('|')}`);
  const format = choiceFlag<ExportFormat>('to', values.to, EXPORT_FORMATS, 'json');
  const [input] = positionals;
  const folder = await stat(input).then((s) => s.isDirectory(), () => { throw new UsageError(`${input}: no such file or folder`); });
  const root = folder ? input : dirname(input);
  const files = await expandPaths([input], isVscanName);
  const annotations: Annotation[] = [];
  const kept: string[] = [];
  const byVideo = new Map<string, string>();
  for (const file of files) {
    const annotation = await annotationFor(file, root, format === 'json');
    // One record per video: a second .vscan of the same video would collide with the first (a JSON key, a subtitle name).
    const first = byVideo.get(annotation.video);
    if (first && !(folder && (format === 'vtt' || format === 'srt'))) {
      console.error(`not exported: ${file} annotates ${annotation.video}, as ${first} does`);
      continue;
    }
    byVideo.set(annotation.video, file);
    annotations.push(annotation);
    kept.push(file);
  }
  if (folder && (format === 'vtt' || format === 'srt')) {
    // One subtitle file per .vscan: beside it, or under --out keeping the folder's layout.
    for (const [i, file] of kept.entries()) {
      const target = values.out ? join(values.out, relative(root, file)).replace(/\.vscan$/, `.${format}`) : file.replace(/\.vscan$/, `.${format}`);
      await mkdir(dirname(target), { recursive: true });
      await writeOutput(target, exportAnnotations([annotations[i]], format), values.force === true);
      console.error(`wrote ${target}`);
    }
    return 0;
  }
  const text = exportAnnotations(annotations, format);
  if (values.out) await writeOutput(values.out, text, values.force === true);
  else process.stdout.write(text);
  return 0;
}

async function runImport(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('import needs one .srt, .vtt, .json or .jsonl file');
  const [file] = positionals;
  const bytes = await readRegularFile(file, MAX_INDEXED_FILE_BYTES * 128, (message) => new UsageError(message));
  if (!bytes) throw new UsageError(`${file}: no such file`);
  const base = basename(file, extname(file));
  const siblings = (await readdir(dirname(file)).catch(() => [] as string[])).filter(isVideoFileName);
  // A subtitle file does not name its video: the one with its base name beside it, else none (the .vscan then links by base name).
  const defaultVideo = siblings.find((name) => basename(name, extname(name)) === base) ?? '';
  let annotations: Annotation[];
  try {
    annotations = importAnnotations(file, bytes.toString('utf8'), defaultVideo);
  } catch (error) {
    if (error instanceof AnnotationFormatError) throw new UsageError(error.message);
    throw error;
  }
  if (!annotations.length) throw new UsageError(`${file}: holds no video's events`);
  const outIsFile = values.out !== undefined && values.out.endsWith('.vscan');
  if (outIsFile && annotations.length > 1) throw new UsageError(`${file}: holds ${annotations.length} videos; --out names a folder for them, not one .vscan`);
  const written: string[] = [];
  for (const annotation of annotations) {
    // A video named in the file keeps its folder relative to where the .vscan goes, so the Video: header still finds it.
    const folder = outIsFile ? dirname(values.out!) : values.out ?? dirname(file);
    const target = outIsFile ? values.out! : join(folder, `${(annotation.video || base).replace(/\.[^./\\]+$/, '')}.vscan`);
    await mkdir(dirname(target), { recursive: true });
    const video = annotation.video && relative(dirname(target), resolve(folder, annotation.video));
    try {
      await writeNewFile([target], annotationToVscan({ ...annotation, video }, basename(file)));
    } catch (error) {
      if (/candidate names are taken/.test((error as Error).message)) throw new UsageError(`${target}: exists; import never replaces a .vscan (choose another --out)`);
      throw error;
    }
    written.push(target);
    if (!values.json) console.log(`wrote ${target} (${annotation.events.length} events)`);
  }
  if (values.json) console.log(JSON.stringify(written));
  return 0;
}

export function runLibraryCommand(command: 'search' | 'export' | 'import', args: string[]): Promise<number> {
  return command === 'search' ? runSearch(args) : command === 'export' ? runExport(args) : runImport(args);
}

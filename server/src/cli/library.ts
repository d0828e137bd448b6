/** `vscan search`, `vscan export`, `vscan import`: the library of `.vscan` files from the command line. */
import { stat } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { AnnotationFormatError, type ExportFormat, EXPORT_FORMATS } from '../library/formats';
import { groundHits, type RankedHit } from '../library/grounding';
import { indexFileFor, loadIndex, saveIndex, syncLibrary } from '../library/libraryFolders';
import { exportPath, importFile } from '../library/transfer';
import { defaultGraphCacheDir } from '../model/runtime/graphCache';
import { resolveModelDir } from '../model/acquire/resolveModel';
import { VideoModel } from '../tasks/videoTasks';
import { samplingFromEnv } from '../video/plan';
import { choiceFlag, numberFlag, RUNTIME_FLAGS, runtimeFlags, UsageError } from './usage';

export const LIBRARY_HELP = `  vscan search "<query>" [folder|file]... [--json] [--limit N] [--ground K --model MODEL [--ep …]] [--index-dir DIR]
                events and Scene paragraphs of every .vscan below the folders (default: here), best first;
                --json: [{video, vscan, start, end, description, score, grounded, kind, line}];
                --ground K: the model checks the best K in their videos and re-ranks them
  vscan export <file|folder> --to vtt|srt|json|jsonl [--out PATH] [--force] [--ffprobe PATH]
                json: dense captions {video: {duration, timestamps, sentences}}; jsonl: one event per line;
                without --out, to standard output (vtt/srt of a folder: beside each .vscan)
  vscan import <file.srt|.vtt|.json|.jsonl> [--out PATH] [--json]   writes .vscan files, never over an existing one`;

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
  // On stderr, so that --json's standard output stays one array.
  for (const { file, reason } of report.skipped) console.error(`not indexed: ${reason.startsWith(file) ? reason : `${file}: ${reason}`}`);
  if (report.truncated) console.error(`the library is incomplete: ${report.truncated}`);
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
        console.error(`not grounded: ${video}: ${(error as Error).message.split('\n')[0]}`);
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

/** Runs an export or import, turning its one-line errors into usage errors (exit status 2). */
async function oneLine<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof AnnotationFormatError) throw new UsageError(error.message);
    throw error;
  }
}

async function runExport(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { to: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, ffprobe: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('export needs one .vscan file or folder');
  if (!values.to) throw new UsageError(`export needs --to ${EXPORT_FORMATS.join('|')}`);
  const format = choiceFlag<ExportFormat>('to', values.to, EXPORT_FORMATS, 'json');
  const result = await oneLine(exportPath(positionals[0], format, { out: values.out, replace: values.force === true, probe: { ffprobePath: values.ffprobe } }));
  for (const note of result.notes) console.error(note);
  for (const file of result.written) console.error(`wrote ${file}`);
  if (result.text !== undefined) process.stdout.write(result.text);
  return 0;
}

async function runImport(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('import needs one .srt, .vtt, .json or .jsonl file');
  const { written, events } = await oneLine(importFile(positionals[0], values.out));
  if (values.json) console.log(JSON.stringify(written));
  else written.forEach((file, i) => console.log(`wrote ${file} (${events[i]} events)`));
  return 0;
}

export function runLibraryCommand(command: 'search' | 'export' | 'import', args: string[]): Promise<number> {
  return command === 'search' ? runSearch(args) : command === 'export' ? runExport(args) : runImport(args);
}

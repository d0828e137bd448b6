/**
 * Language benchmarks: parse + validate at 100 / 10,000 / 100,000 events against a
 * line-scan baseline in the same run, and the didChange → publishDiagnostics latency on
 * a 10,000-event document over the real protocol (stdio).
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { readdir, writeFile } from 'node:fs/promises';
import { codeActionsFor, DEFAULT_SETTINGS, FIX_ALL_KIND, parseVscan, validateVscan } from '../../server/src/language';
import { ProbeCache } from '../../server/src/video/probe';
import { resolveDocumentContext } from '../../server/src/workspace/videoContext';
import { TestClient } from '../helpers/lspClient';
import { makeVideo, tempDir } from '../helpers/videos';
import { median, percentile, type Table, timeMs } from './stats';

/** A realistic file: a few windowed blocks, one event per line, a few overlaps and reversals. */
export function syntheticVscan(events: number): string {
  const lines = ['# generated for benchmarks', 'Video: clip.mp4', ''];
  const perBlock = 1000;
  for (let i = 0; i < events; i++) {
    if (i % perBlock === 0) {
      lines.push('', `Scene <${i}.0 - ${i + perBlock}.0>: Block ${i / perBlock} of a long video, captioned in windows.`, 'Events:');
    }
    const start = i + (i % 97 === 0 ? 0.5 : 0); // some overlaps with the previous event
    const end = i % 211 === 0 ? start - 0.5 : i + 1; // some reversed spans
    lines.push(`<${start.toFixed(1)} - ${end.toFixed(1)}> event number ${i} with a short description`);
  }
  return lines.join('\n') + '\n';
}

/** The least any parser must do: split the lines and match each once. */
function lineScanBaseline(text: string): number {
  let matches = 0;
  const pattern = /^<([\d.:-]+) - ([\d.:-]+)> (.*)$/;
  for (const line of text.split('\n')) if (pattern.test(line)) matches++;
  return matches;
}

export async function benchLanguage(tables: Table[]): Promise<void> {
  const context = { video: { path: '/x/clip.mp4', uri: 'file:///x/clip.mp4', explicit: true, exists: true, durationSec: 200_000 } };
  const rows: string[][] = [];
  const perEvent: Record<number, number> = {};
  for (const n of [100, 10_000, 100_000]) {
    const text = syntheticVscan(n);
    const runs = n >= 100_000 ? 15 : 40;
    const ours = median(timeMs(runs, () => validateVscan(parseVscan(text), context, DEFAULT_SETTINGS, 'file:///x/clip.vscan')));
    const base = median(timeMs(runs, () => lineScanBaseline(text)));
    perEvent[n] = ours / n;
    rows.push([n.toLocaleString('en-US'), ours.toFixed(2), base.toFixed(2), (ours / base).toFixed(1) + '×']);
  }
  tables.push({
    title: 'Parse + validate (median ms)',
    head: ['events', 'parse + validate', 'line-scan baseline', 'ratio'],
    rows,
    notes: [`Per-event cost at 100,000 vs 10,000 events: ${(perEvent[100_000] / perEvent[10_000]).toFixed(2)}× (1.00 = linear; n log n allows ≈1.25×).`],
  });

  const dir = await tempDir('vscan-bench-');
  // Long enough for every synthetic event (1 fps, tiny frames: quick to encode), so the
  // diagnostics are the realistic handful rather than 20,000 out-of-range errors.
  await makeVideo(join(dir, 'clip.mp4'), 10_001, '32x32', 1);
  const file = join(dir, 'clip.vscan');
  const text = syntheticVscan(10_000);
  await writeFile(file, text);
  const uri = pathToFileURL(file).href;
  const client = await TestClient.start();
  try {
    await client.open(uri, text, 1);
    await client.diagnostics(uri, (p) => p.version === 1);
    const latencies: number[] = [];
    const line = 10; // an event line: change one digit of its description
    const column = text.split('\n')[line].indexOf('number ') + 7;
    for (let version = 2; version < 62; version++) {
      const started = performance.now();
      await client.change(uri, version, [{ range: { start: { line, character: column }, end: { line, character: column + 1 } }, text: String(version % 10) }]);
      await client.diagnostics(uri, (p) => p.version === version);
      latencies.push(performance.now() - started);
    }
    const inProcess = median(timeMs(20, () => validateVscan(parseVscan(text), context, DEFAULT_SETTINGS)));
    const med = median(latencies.slice(10));
    tables.push({
      title: 'didChange → fresh diagnostics, 10,000 events, real server over stdio (ms)',
      head: ['median', 'p95', 'in-process parse + validate', 'ratio'],
      rows: [[med.toFixed(1), percentile(latencies.slice(10), 95).toFixed(1), inProcess.toFixed(1), (med / inProcess).toFixed(1) + '×']],
      notes: ['50 one-character edits after 10 warm-up edits; the ratio is what the protocol, incremental sync, the video-context lookup and JSON add.'],
    });
  } finally {
    await client.stop();
  }
  await benchCrowdedFolder(tables);
  benchFixAll(tables);
  await benchLargeFile(tables);
}

/** Open → first diagnostics for 200,000 reversed, unsorted events (issue 11: 20 s and 589 MB of diagnostics before the caps). */
export async function benchLargeFile(tables: Table[]): Promise<void> {
  const lines = ['Scene: x', 'Events:'];
  for (let i = 200_000; i > 0; i--) lines.push(`<${i + 1}.0 - ${i}.0> e`);
  const text = lines.join('\n') + '\n';
  const inProcess = median(timeMs(5, () => validateVscan(parseVscan(text), {}, DEFAULT_SETTINGS, 'file:///x/big.vscan')));
  const dir = await tempDir('vscan-bench-big-');
  const client = await TestClient.start();
  const times: number[] = [];
  let bytes = 0;
  let count = 0;
  try {
    for (let run = 0; run < 5; run++) {
      const uri = pathToFileURL(join(dir, `big${run}.vscan`)).href;
      const started = performance.now();
      await client.open(uri, text, 1);
      const published = await client.diagnostics(uri, (p) => p.version === 1, 120_000);
      times.push(performance.now() - started);
      bytes = JSON.stringify(published).length;
      count = published.diagnostics.length;
    }
  } finally {
    await client.stop();
  }
  const med = median(times);
  tables.push({
    title: `didOpen → first diagnostics, 200,000 events with 400,000 problems (${(text.length / 1e6).toFixed(1)} M characters), real server (ms)`,
    head: ['median', 'in-process parse + validate (all problems)', 'ratio', 'published'],
    rows: [[med.toFixed(0), inProcess.toFixed(0), (med / inProcess).toFixed(2) + '×', `${count.toLocaleString('en-US')} diagnostics, ${(bytes / 1024).toFixed(0)} KiB`]],
  });
}

/** The `unsorted` fixes on 20,000 events in one reversed block (issue 11: 2,000 took 33 s and 477 MB before). */
export function benchFixAll(tables: Table[]): void {
  const lines = ['Scene: x', 'Events:'];
  for (let i = 20_000; i > 0; i--) lines.push(`<${i}.0 - ${i}.5> event ${i}`);
  const text = lines.join('\n') + '\n';
  const uri = 'file:///x/clip.vscan';
  const context = { video: { path: '/x/clip.mp4', uri: 'file:///x/clip.mp4', explicit: true, exists: true, durationSec: 1e6 } };
  const doc = parseVscan(text);
  const diagnostics = validateVscan(doc, context, DEFAULT_SETTINGS, uri);
  const fixAll = median(timeMs(15, () => JSON.stringify(codeActionsFor(parseVscan(text), uri, [], context, DEFAULT_SETTINGS, [FIX_ALL_KIND]))));
  const quickFixes = median(timeMs(15, () => JSON.stringify(codeActionsFor(parseVscan(text), uri, diagnostics, context, DEFAULT_SETTINGS))));
  const base = median(timeMs(15, () => validateVscan(parseVscan(text), context, DEFAULT_SETTINGS, uri)));
  const bytes = JSON.stringify(codeActionsFor(doc, uri, [], context, DEFAULT_SETTINGS, [FIX_ALL_KIND])).length;
  tables.push({
    title: '`unsorted` fixes, 20,000 events in one reversed block (median ms, parse + answer as JSON)',
    head: ['fix-all (source.fixAll)', `quick fixes for all ${diagnostics.length.toLocaleString('en-US')} diagnostics`, 'parse + validate baseline', 'fix-all ratio', 'fix-all answer'],
    rows: [[fixAll.toFixed(1), quickFixes.toFixed(1), base.toFixed(1), (fixAll / base).toFixed(2) + '×', `${(bytes / 1024).toFixed(0)} KiB (file ${(text.length / 1024).toFixed(0)} KiB)`]],
  });
}

async function medianOfAsync(runs: number, work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return median(times);
}

/** The video context of a .vscan in a folder of 20,000 files, looked up on every validation. */
async function benchCrowdedFolder(tables: Table[]): Promise<void> {
  const dir = await tempDir('vscan-bench-folder-');
  for (let i = 0; i < 20_000; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => writeFile(join(dir, `frame${i + j}.png`), '')));
  }
  const doc = parseVscan('Scene: a crowded folder\n');
  const options = { probes: new ProbeCache(), probeWaitMs: 0 };
  const lookup = await medianOfAsync(40, () => resolveDocumentContext(doc, join(dir, 'notes.vscan'), options));
  const listing = await medianOfAsync(40, () => readdir(dir));
  tables.push({
    title: 'Video context of a .vscan in a folder of 20,000 files (median ms per validation)',
    head: ['context lookup (listing cached by the folder\'s mtime)', 'listing the folder (what each validation did before)', 'ratio'],
    rows: [[lookup.toFixed(2), listing.toFixed(2), (lookup / listing).toFixed(3)]],
  });
}

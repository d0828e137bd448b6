/**
 * Library benchmarks: `vscan search --json` over 1,000 generated `.vscan` files as a user
 * runs it (cold: the index built and saved; warm: the saved index read, nothing changed;
 * after 10 files changed), set against `vscan --version` (the floor of any CLI answer) and an
 * in-process grep of every file (what a search without an index must at least do); and,
 * in process, the index build and one query.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseVscan } from '../../server/src/language';
import { LibraryIndex } from '../../server/src/library/searchIndex';
import { CLI } from '../helpers/cli';
import { tempDir } from '../helpers/videos';
import { median, type Table, timeMs } from './stats';

const SUBJECTS = ['a dog', 'the chef', 'a child', 'two cyclists', 'the goalkeeper', 'a heron', 'the pianist', 'a forklift', 'the surfer', 'a crowd'];
const VERBS = ['jumps into', 'walks along', 'runs past', 'climbs onto', 'waves at', 'slips on', 'circles', 'carries a box to', 'photographs', 'dives under'];
const PLACES = ['the water', 'the pier', 'a red car', 'the kitchen counter', 'the stage', 'a wooden fence', 'the net', 'the loading dock', 'the wave', 'the fountain'];

/** A seeded caption of `events` events: sentences from a small vocabulary, as a real library repeats itself. */
function syntheticCaption(seed: number, events: number): string {
  let state = seed * 2654435761 >>> 0;
  const next = (n: number) => { state = (state * 1664525 + 1013904223) >>> 0; return state % n; };
  const lines = [`Video: clip-${seed}.mp4`, '', `Scene: ${SUBJECTS[next(10)]} near ${PLACES[next(10)]} on an overcast day; ${SUBJECTS[next(10)]} watches.`, 'Events:'];
  for (let i = 0; i < events; i++) lines.push(`<${(i * 3).toFixed(1)} - ${(i * 3 + 2.5).toFixed(1)}> ${SUBJECTS[next(10)]} ${VERBS[next(10)]} ${PLACES[next(10)]}`);
  return lines.join('\n') + '\n';
}

function cliMs(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`vscan ${args.join(' ')}: ${result.stderr}`);
  return performance.now() - started;
}

export async function benchLibrary(tables: Table[]): Promise<void> {
  const dir = await tempDir('vscan-bench-library-');
  const lib = join(dir, 'lib');
  const files: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const folder = join(lib, `day-${i % 20}`);
    await mkdir(folder, { recursive: true });
    files.push(join(folder, `clip-${i}.vscan`));
    await writeFile(files[i], syntheticCaption(i, 30));
  }
  const query = 'dog jumped into the water';
  const search = (cache: string) => ['search', query, lib, '--json', '--limit', '20', '--index-dir', cache];
  const runs = 5;
  const cold: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cache = join(dir, `cold-${i}`);
    cold.push(cliMs(search(cache)));
    await rm(cache, { recursive: true });
  }
  const warmCache = join(dir, 'warm');
  cliMs(search(warmCache));
  const warm = Array.from({ length: runs }, () => cliMs(search(warmCache)));
  const changed: number[] = [];
  for (let i = 0; i < runs; i++) {
    const later = new Date(Date.now() + (i + 1) * 10_000);
    for (const file of files.slice(i * 10, i * 10 + 10)) await utimes(file, later, later);
    changed.push(cliMs(search(warmCache)));
  }
  const floor = Array.from({ length: runs }, () => cliMs(['--version']));
  // The least a search without an index does: read every file and test every line for the words.
  const words = query.split(' ');
  const grepOnce = async () => {
    let hits = 0;
    for (const file of files) for (const line of (await readFile(file, 'utf8')).split('\n')) if (words.some((w) => line.includes(w))) hits++;
    return hits;
  };
  const grep: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await grepOnce();
    grep.push(performance.now() - started);
  }
  const { readdir } = await import('node:fs/promises');
  const saved = join(warmCache, 'search', (await readdir(join(warmCache, 'search')))[0]);
  const indexBytes = (await stat(saved)).size;
  const textBytes = (await Promise.all(files.map((f) => stat(f)))).reduce((n, s) => n + s.size, 0);

  // In process: building the index from the parses, and one query on it.
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  const build = median(timeMs(5, () => {
    const index = LibraryIndex.empty();
    texts.forEach((text, i) => index.update(files[i], 'x', parseVscan(text), undefined));
  }));
  const index = LibraryIndex.empty();
  texts.forEach((text, i) => index.update(files[i], 'x', parseVscan(text), undefined));
  const queryMs = median(timeMs(50, () => index.search(query, 20)));
  const fuzzyMs = median(timeMs(50, () => index.search('goalkeper slipped', 20)));
  const load = median(timeMs(5, () => LibraryIndex.fromJSON(JSON.stringify(index))));
  const floorMs = median(floor);

  tables.push({
    title: '`vscan search --json` over 1,000 .vscan files (31,000 entries), as a user runs it (median ms of 5)',
    head: ['run', 'ms', 'vs `vscan --version`', 'vs grep of every file'],
    rows: [
      ['cold: index built, saved, queried', median(cold).toFixed(0), `${(median(cold) / floorMs).toFixed(1)}×`, `${(median(cold) / median(grep)).toFixed(1)}×`],
      ['warm: saved index read, nothing changed', median(warm).toFixed(0), `${(median(warm) / floorMs).toFixed(1)}×`, `${(median(warm) / median(grep)).toFixed(1)}×`],
      ['10 files changed since', median(changed).toFixed(0), `${(median(changed) / floorMs).toFixed(1)}×`, `${(median(changed) / median(grep)).toFixed(1)}×`],
      ['`vscan --version` (baseline)', floorMs.toFixed(0), '1.0×', ''],
      ['grep of every file in process (baseline)', median(grep).toFixed(0), '', '1.0×'],
    ],
    notes: [`Index on disk: ${(indexBytes / 1e6).toFixed(1)} MB for ${(textBytes / 1e6).toFixed(1)} MB of .vscan text.`],
  });
  tables.push({
    title: 'The index in process, 1,000 files (median ms)',
    head: ['step', 'ms'],
    rows: [
      ['build from the parses (parse included)', build.toFixed(0)],
      ['read back from its JSON', load.toFixed(0)],
      [`query "${query}" (stems, prefixes)`, queryMs.toFixed(2)],
      ['query "goalkeper slipped" (a typo: fuzzy)', fuzzyMs.toFixed(2)],
    ],
  });
  await rm(dir, { recursive: true, force: true });
}

import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import SrtParser from 'srt-parser-2';
import { WebVTTParser } from 'webvtt-parser';
import entities from 'webvtt-parser/html-entities.json';
import { vscan } from '../helpers/cli';
import { tempDir } from '../helpers/videos';

const BEACH = 'Video: beach.mp4\n\nScene: A dog plays on a sunny beach.\nEvents:\n<0.0 - 2.0> the dog runs along the shore\n<2.0 - 4.5> the dog jumps into the water\n';
const KITCHEN = 'Video: kitchen.mp4\n\nScene: Someone cooks breakfast.\nEvents:\n<0.0 - 3.0> opens the fridge\n<3.0 - 6.25> cracks two eggs into a pan\n';

async function library(): Promise<{ dir: string; lib: string; cache: string }> {
  const dir = await tempDir('vscan-library-');
  const lib = join(dir, 'lib');
  await mkdir(join(lib, 'sub'), { recursive: true });
  await writeFile(join(lib, 'beach.vscan'), BEACH);
  await writeFile(join(lib, 'sub', 'kitchen.vscan'), KITCHEN);
  return { dir, lib, cache: join(dir, 'cache') };
}

test('vscan search --json: the documented fields, best first; the index is saved and follows changed, new and deleted files', async () => {
  const { lib, cache } = await library();
  const search = (query: string) => {
    const run = vscan(['search', query, lib, '--json', '--index-dir', cache]);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as Record<string, unknown>[];
  };
  const [best] = search('dog jumped in water');
  assert.deepEqual(best, { video: join(lib, 'beach.mp4'), vscan: join(lib, 'beach.vscan'), start: 2, end: 4.5, description: 'the dog jumps into the water', score: best.score, grounded: false, kind: 'event', line: 5 });
  const saved = await readdir(join(cache, 'search'));
  assert.equal(saved.length, 1, 'one index file for this folder');
  const indexFile = join(cache, 'search', saved[0]);
  const before = (await stat(indexFile)).mtimeMs;
  search('eggs');
  assert.equal((await stat(indexFile)).mtimeMs, before, 'nothing changed: the index is not rewritten');
  await writeFile(join(lib, 'sub', 'kitchen.vscan'), KITCHEN.replace('eggs', 'pancakes'));
  await utimes(join(lib, 'sub', 'kitchen.vscan'), new Date(), new Date(Date.now() + 5000));
  assert.equal(search('eggs').length, 0);
  assert.equal(search('pancake')[0].vscan, join(lib, 'sub', 'kitchen.vscan'));
  await writeFile(join(lib, 'new.vscan'), 'Scene: x\nEvents:\n<1 - 2> a seagull steals a sandwich\n');
  assert.equal(search('seagull')[0].vscan, join(lib, 'new.vscan'));
  await rm(join(lib, 'beach.vscan'));
  assert.equal(search('dog').length, 0);
  const index = JSON.parse(await readFile(indexFile, 'utf8'));
  assert.deepEqual(index.files.map((f: [string]) => f[0]).sort(), [join(lib, 'new.vscan'), join(lib, 'sub', 'kitchen.vscan')]);
});

test('vscan search: plain lines; a .vscan too large to index is reported, not read; bad usage is one line', async () => {
  const { lib, cache } = await library();
  await writeFile(join(lib, 'huge.vscan'), 'Scene: x\nEvents:\n' + '<0 - 1> dog\n'.repeat(200_000));
  const run = vscan(['search', 'dog', lib, '--index-dir', cache]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /beach\.vscan:6  <2 - 4\.5>  the dog jumps into the water$/m);
  assert.match(run.stderr, /not indexed: .*huge\.vscan: is 2\.4 MB, more than the 2\.0 MB such a file may be/);
  assert.doesNotMatch(run.stdout, /huge/);
  const bad = vscan(['search', '', lib]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^vscan: search needs a query/);
  assert.match(vscan(['search', 'x', join(lib, 'nope')]).stderr, /nope: no such file or folder/);
  assert.match(vscan(['search', 'x', lib, '--ground', '2']).stderr, /--ground needs --model/);
});

test('vscan export: vtt and srt valid for parsers we did not write; json and jsonl of a folder; import reads each back to the same events', async () => {
  const { dir, lib } = await library();
  const vtt = vscan(['export', join(lib, 'sub', 'kitchen.vscan'), '--to', 'vtt']);
  assert.equal(vtt.code, 0, vtt.stderr);
  const parsed = new WebVTTParser(entities).parse(vtt.stdout, 'subtitles');
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.cues.map((c) => [c.startTime, c.endTime, c.text]), [[0, 3, 'opens the fridge'], [3, 6.25, 'cracks two eggs into a pan']]);
  const srt = vscan(['export', join(lib, 'sub', 'kitchen.vscan'), '--to', 'srt']);
  assert.deepEqual(new SrtParser().fromSrt(srt.stdout).map((c) => [c.startSeconds, c.endSeconds, c.text]), [[0, 3, 'opens the fridge'], [3, 6.25, 'cracks two eggs into a pan']]);

  const json = JSON.parse(vscan(['export', lib, '--to', 'json']).stdout);
  assert.deepEqual(json['sub/kitchen.mp4'], { duration: 6.25, timestamps: [[0, 3], [3, 6.25]], sentences: ['opens the fridge', 'cracks two eggs into a pan'], scene: 'Someone cooks breakfast.' });
  assert.deepEqual(Object.keys(json).sort(), ['beach.mp4', 'sub/kitchen.mp4']);
  const jsonl = vscan(['export', lib, '--to', 'jsonl']).stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(jsonl.length, 4);

  for (const format of ['vtt', 'srt', 'json', 'jsonl']) {
    const out = join(dir, format);
    await mkdir(out);
    const file = join(out, `all.${format}`);
    const source = format === 'vtt' || format === 'srt' ? join(lib, 'sub', 'kitchen.vscan') : lib;
    assert.equal(vscan(['export', source, '--to', format, '--out', file]).code, 0);
    const imported = vscan(['import', file, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    const written: string[] = JSON.parse(imported.stdout);
    for (const vscanFile of written) {
      const back = JSON.parse(vscan(['export', vscanFile, '--to', 'json']).stdout);
      const [entry] = Object.values(back) as { timestamps: number[][]; sentences: string[] }[];
      const original: { timestamps: number[][]; sentences: string[] } = vscanFile.endsWith('beach.vscan') ? json['beach.mp4'] : json['sub/kitchen.mp4'];
      assert.deepEqual([entry.timestamps, entry.sentences], [original.timestamps, original.sentences], `${format}: ${vscanFile}`);
    }
    assert.equal(written.length, format === 'vtt' || format === 'srt' ? 1 : 2);
  }
});

test('import never writes over an existing .vscan; export never over an existing file without --force', async () => {
  const { dir, lib } = await library();
  const srt = join(dir, 'beach.srt');
  await writeFile(srt, '1\n00:00:01,000 --> 00:00:02,000\nhello\n');
  await writeFile(join(dir, 'beach.vscan'), 'my own edits\n');
  const run = vscan(['import', srt]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /beach\.vscan: exists; a \.vscan is never replaced/);
  assert.equal(await readFile(join(dir, 'beach.vscan'), 'utf8'), 'my own edits\n');
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left');
  const out = join(dir, 'k.vtt');
  assert.equal(vscan(['export', join(lib, 'beach.vscan'), '--to', 'vtt', '--out', out]).code, 0);
  assert.match(vscan(['export', join(lib, 'beach.vscan'), '--to', 'srt', '--out', out]).stderr, /k\.vtt: exists; not replaced \(--force replaces it\)/);
  assert.equal(vscan(['export', join(lib, 'beach.vscan'), '--to', 'srt', '--out', out, '--force']).code, 0);
  assert.match(await readFile(out, 'utf8'), /^1\n00:00:00,000 --> /);
  await writeFile(join(dir, 'bad.json'), '{"a.mp4": {"timestamps": [[1]], "sentences": ["x"]}}');
  assert.match(vscan(['import', join(dir, 'bad.json')]).stderr, /^vscan: .*bad\.json: "a\.mp4" timestamp 1 is not a \[start, end\] pair\n$/);
});

/**
 * The library over the tiny checkpoint written by our own code and videos made by the real
 * ffmpeg: three shards as three separate `vscan caption --shard` processes, `--jobs`, and
 * search grounded by the model.
 */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytesPerJob } from '../../server/src/cli/captionBatch';
import { vscan, vscanAsync } from '../helpers/cli';
import { tempTinyCheckpoint } from '../helpers/tinyModel';
import { makeVideo } from '../helpers/videos';

const setup = (async () => {
  const { dir, tiny } = await tempTinyCheckpoint('vscan-library-tasks-', 7);
  const folder = join(dir, 'videos');
  const names = ['a.mp4', 'b.mp4', 'c.mp4', 'd.mp4', 'e.mp4', 'f.mp4', 'g.mp4', join('day2', 'h.mp4'), join('day2', 'i.mp4')];
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(folder, 'day2'), { recursive: true });
  for (const name of names) await makeVideo(join(folder, name), 1, '64x48', 4);
  return { dir, tiny, folder, videos: names.map((n) => join(folder, n)).sort() };
})();

const caption = ['--max-new-tokens', '3', '--ep', 'cpu', '--threads', '1', '--json'];

async function vscanFiles(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true })).filter((n) => n.endsWith('.vscan')).map((n) => join(folder, n)).sort();
}

test('three shards as three processes over one folder: every video captioned exactly once; the union is exact', async () => {
  const { tiny, folder, videos } = await setup;
  const runs = await Promise.all([0, 1, 2].map((i) => vscanAsync(['caption', folder, '--shard', `${i}/3`, '--model', tiny, ...caption])));
  const summaries = runs.map((run, i) => {
    assert.equal(run.code, 0, `shard ${i}: ${run.stderr}`);
    return JSON.parse(run.stdout) as { shard: string; videos: number; done: { video: string; file: string }[]; skipped: unknown[]; failed: unknown[] };
  });
  assert.deepEqual(summaries.map((s) => s.shard), ['0/3', '1/3', '2/3']);
  const done = summaries.flatMap((s) => s.done.map((d) => d.video)).sort();
  assert.deepEqual(done, videos, 'the union of the shards is the folder, with no video twice');
  for (const s of summaries) {
    assert.equal(s.videos, s.done.length);
    assert.deepEqual([s.skipped, s.failed], [[], []]);
    assert.ok(s.done.length >= 1, 'nine videos split three ways leave no shard empty here');
  }
  assert.deepEqual(await vscanFiles(folder), videos.map((v) => v.replace(/\.mp4$/, '.vscan')), 'one .vscan per video, none written twice (no clip.2.vscan)');

  // The same shard again resumes: everything it owns is already captioned.
  const again = JSON.parse((await vscanAsync(['caption', folder, '--shard', '1/3', '--model', tiny, ...caption])).stdout);
  assert.deepEqual(again.skipped.map((s: { video: string }) => s.video), summaries[1].done.map((d) => d.video));
  assert.deepEqual(again.done, []);
});

test('--jobs 2 captions with two engine processes, each video once; a failing video is reported and the batch goes on', async () => {
  const { dir, tiny } = await setup;
  const folder = join(dir, 'jobs');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(folder);
  for (const name of ['p.mp4', 'q.mp4', 'r.mp4']) await makeVideo(join(folder, name), 1, '64x48', 4);
  await writeFile(join(folder, 'broken.mp4'), 'not a video');
  const run = await vscanAsync(['caption', folder, '--jobs', '2', '--model', tiny, ...caption]);
  assert.equal(run.code, 1, 'a failed video makes the exit status 1');
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.jobs, 2);
  assert.deepEqual(summary.done.map((d: { video: string }) => d.video), ['p.mp4', 'q.mp4', 'r.mp4'].map((n) => join(folder, n)));
  assert.equal(summary.failed.length, 1);
  assert.equal(summary.failed[0].video, join(folder, 'broken.mp4'));
  assert.match(summary.failed[0].reason, /broken\.mp4/);
  assert.deepEqual(await vscanFiles(folder), ['p', 'q', 'r'].map((n) => join(folder, `${n}.vscan`)));
});

test('--jobs counts each engine by what it will hold: quantized weights on the CPU about half of float32\'s', () => {
  const gib = 2 ** 30;
  const large = 4 * gib; // the 2B checkpoint's bf16 files
  assert.equal(bytesPerJob(large, { executionProvider: 'cpu' }), Math.ceil(1.2 * large), 'auto is int8 on the CPU for a large model');
  assert.equal(bytesPerJob(large, { executionProvider: 'cpu', weights: 'int4' }), large);
  assert.equal(bytesPerJob(large, { executionProvider: 'cpu', weights: 'bf16' }), 2.5 * large);
  assert.equal(bytesPerJob(gib / 2, { executionProvider: 'cpu' }), 2.5 * (gib / 2), 'auto keeps a small model in bf16');
  // auto could still pick a GPU, whose host memory was not measured: the most a process can need.
  assert.equal(bytesPerJob(large, {}), 2.5 * large);
  assert.equal(bytesPerJob(large, { executionProvider: 'webgpu', weights: 'int8' }), 2.5 * large);
});

test('bad --shard and --jobs are one line each', async () => {
  const { tiny, folder } = await setup;
  assert.match(vscan(['caption', folder, '--shard', '3/3', '--model', tiny]).stderr, /^vscan: --shard is I\/N with 0 ≤ I < N/);
  assert.match(vscan(['caption', folder, '--jobs', '0', '--model', tiny]).stderr, /^vscan: --jobs needs a positive integer/);
});

test('vscan search --ground K: the model is asked about the best K hits; the answer keeps its shape and grounded hits lead', async () => {
  const { dir, tiny, folder } = await setup;
  const lib = join(dir, 'grounded');
  const { mkdir, copyFile } = await import('node:fs/promises');
  await mkdir(lib);
  for (const name of ['a', 'b', 'c']) {
    await copyFile(join(folder, `${name}.mp4`), join(lib, `${name}.mp4`));
    await writeFile(join(lib, `${name}.vscan`), `Video: ${name}.mp4\n\nScene: A test pattern.\nEvents:\n<0.0 - 0.5> the pattern ${name} moves\n<0.5 - 1.0> colour bars\n`);
  }
  const args = ['search', 'pattern moves', lib, '--json', '--index-dir', join(dir, 'cache')];
  const plain = JSON.parse(vscan(args).stdout);
  const run = vscan([...args, '--ground', '2', '--model', tiny, '--ep', 'cpu', '--threads', '1']);
  assert.equal(run.code, 0, run.stderr);
  const grounded = JSON.parse(run.stdout) as { vscan: string; start: number; grounded: boolean; span?: number[] }[];
  const key = (r: { vscan: string; start: number }) => `${r.vscan}@${r.start}`;
  assert.deepEqual(grounded.map(key).sort(), plain.map(key).sort(), 'the same hits, re-ranked');
  const firstUngrounded = grounded.findIndex((r) => !r.grounded);
  assert.ok(grounded.slice(firstUngrounded === -1 ? grounded.length : firstUngrounded).every((r) => !r.grounded), 'grounded hits come first');
  for (const r of grounded) {
    assert.equal(typeof r.grounded, 'boolean');
    if (r.span) assert.ok(r.span.length === 2 && r.span.every(Number.isFinite));
  }
  const ungrounded = grounded.filter((r) => !r.grounded).map(key);
  assert.deepEqual(ungrounded, plain.map(key).filter((k: string) => ungrounded.includes(k)), 'the rest keep their text order');
});

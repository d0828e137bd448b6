import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { decodeNpy } from '../../server/src/io/npy';
import { decodePng } from '../../server/src/io/png';
import { vscan } from '../helpers/cli';
import { indexColor, makeIndexVideo, tempDir } from '../helpers/videos';

let dir: string;
let video: string;
before(async () => {
  dir = await tempDir();
  video = await makeIndexVideo(join(dir, 'clip.mkv'), 30, '32x24');
});

test('probe --json prints the documented shape', () => {
  const result = vscan(['probe', video, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(json), ['file', 'durationSec', 'fps', 'frameCount', 'width', 'height', 'codec', 'hasAudio', 'vfr', 'maxFrameOffsetSec', 'plan']);
  assert.deepEqual(Object.keys(json.plan), ['frameIndices', 'frameTimesSec', 'presentationSec', 'timestampsSec', 'timestampText', 'resizedWidth', 'resizedHeight', 'gridThw', 'visualTokens']);
  assert.deepEqual([json.frameCount, json.fps, json.width, json.height, json.codec, json.hasAudio], [30, 10, 32, 24, 'ffv1', false]);
  assert.deepEqual(json.plan.frameIndices, [0, 6, 12, 17, 23, 29]);
  assert.deepEqual(json.plan.timestampText, ['<0.3 seconds>', '<1.4 seconds>', '<2.6 seconds>']);
  assert.deepEqual(json.plan.gridThw, [3, 20, 28]);
});

test('sampling flags and the environment', () => {
  const flags = JSON.parse(vscan(['probe', video, '--json', '--fps', '1', '--start', '1', '--end', '2.5']).stdout);
  // Window frames ceil(10)…floor(25) = 16 frames at 10 fps → 16/10·1 = 1.6 → min 4 frames.
  assert.deepEqual(flags.plan.frameIndices, [10, 15, 20, 25]);
  const bad = vscan(['probe', video, '--max-frames', 'lots']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-frames needs a positive integer/);
});

test('probe --dump writes pixel_values, grid_thw and frame_indices as .npy', async () => {
  const out = join(dir, 'dump');
  const result = vscan(['probe', video, '--dump', out]);
  assert.equal(result.code, 0, result.stderr);
  const pixels = decodeNpy(await readFile(join(out, 'pixel_values.npy')));
  assert.deepEqual([pixels.dtype, pixels.shape], ['float32', [1680, 1536]]);
  assert.equal(pixels.data[0], Math.fround(Math.fround(indexColor(0)[0] - 127.5) / 127.5));
  const grid = decodeNpy(await readFile(join(out, 'grid_thw.npy')));
  assert.deepEqual([grid.dtype, grid.shape, [...grid.data].map(Number)], ['int64', [1, 3], [3, 20, 28]]);
  const indices = decodeNpy(await readFile(join(out, 'frame_indices.npy')));
  assert.deepEqual([...indices.data].map(Number), [0, 6, 12, 17, 23, 29]);
});

test('frames --out writes the sampled frames as PNG and a contact sheet', async () => {
  const out = join(dir, 'frames');
  const result = vscan(['frames', video, '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  const files = (await readdir(out)).sort();
  assert.deepEqual(files, ['contact-sheet.png', 'frame-0-index-0.png', 'frame-1-index-6.png', 'frame-2-index-12.png', 'frame-3-index-17.png', 'frame-4-index-23.png', 'frame-5-index-29.png']);
  const frame = decodePng(await readFile(join(out, 'frame-3-index-17.png')));
  assert.deepEqual([frame.width, frame.height], [448, 320]);
  assert.deepEqual([...frame.rgb.subarray(0, 3)], indexColor(17));
  const sheet = decodePng(await readFile(join(out, 'contact-sheet.png')));
  assert.ok(sheet.width > 192 && sheet.height > 100);
});

test('a bad video exits 2 with one line naming it', async () => {
  const result = vscan(['probe', join(dir, 'missing.mp4')]);
  assert.equal(result.code, 2);
  assert.equal(result.stderr.trim().split('\n').length, 1);
  assert.match(result.stderr, /missing\.mp4/);
  assert.equal(vscan(['frames', video]).code, 2);
});

test('a relative name with a colon is a file, not a protocol (probe and frames)', async () => {
  const { copyFile } = await import('node:fs/promises');
  await copyFile(video, join(dir, '2024-01-01T12:30:00.mkv'));
  const probe = vscan(['probe', '2024-01-01T12:30:00.mkv', '--json'], { cwd: dir });
  assert.equal(probe.code, 0, probe.stderr);
  assert.equal(JSON.parse(probe.stdout).frameCount, 30);
  const frames = vscan(['frames', '2024-01-01T12:30:00.mkv', '--out', 'colon-frames'], { cwd: dir });
  assert.equal(frames.code, 0, frames.stderr);
  assert.ok((await readdir(join(dir, 'colon-frames'))).includes('contact-sheet.png'));
});

test('a file name starting with "-" gets a hint naming the whole argument, and the hint works', async () => {
  const { copyFile } = await import('node:fs/promises');
  await copyFile(video, join(dir, '-i.mkv'));
  const wrong = vscan(['probe', '-i.mkv'], { cwd: dir });
  assert.equal(wrong.code, 2);
  assert.equal(wrong.stderr.trim(), 'vscan: unknown option -i (in "-i.mkv"); a file name that starts with "-" goes after "--": vscan probe -- -i.mkv');
  const hinted = vscan(['probe', '--json', '--', '-i.mkv'], { cwd: dir });
  assert.equal(hinted.code, 0, hinted.stderr);
  assert.equal(JSON.parse(hinted.stdout).frameCount, 30);
});

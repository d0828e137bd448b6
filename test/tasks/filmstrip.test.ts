import assert from 'node:assert/strict';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { filmstrip, MAX_THUMBNAILS, thinFrames, THUMB_HEIGHT, thumbWidth } from '../../server/src/tasks/filmstrip';
import { resolveTool, runTool } from '../../server/src/video/tools';
import { indexColor, makeIndexVideo, tempDir } from '../helpers/videos';

/** The sprite decoded back to RGB with ffmpeg. */
async function decodeSprite(path: string, width: number, height: number): Promise<Buffer> {
  const result = await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { timeoutMs: 30_000 });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout.length, width * height * 3, 'the sprite is columns × rows tiles');
  return result.stdout;
}

test('thinning keeps each frame once, in order, at most the limit, spread over the whole video', () => {
  const frames = [3, 1, 2, 2, 0].map((index) => ({ index, time: index / 10 }));
  assert.deepEqual(thinFrames(frames).map((f) => f.index), [0, 1, 2, 3]);
  const many = Array.from({ length: 10_000 }, (_, index) => ({ index, time: index }));
  const thinned = thinFrames(many);
  assert.equal(thinned.length, MAX_THUMBNAILS);
  assert.equal(thinned[0].index, 0);
  assert.ok(thinned[thinned.length - 1].index > 9_900, 'the last thumbnail is near the end');
});

test('thumbnails keep the display aspect, even-sized and bounded', () => {
  assert.equal(thumbWidth(1920, 1080), 96);
  assert.equal(thumbWidth(1080, 1920), 30);
  assert.equal(thumbWidth(0, 0), 96, 'an unknown size reads as 16:9');
  assert.equal(thumbWidth(100_000, 10), 4 * THUMB_HEIGHT, 'a panorama is bounded');
});

test('the filmstrip shows the planned frames themselves (the media worker), decoded once and cached', async () => {
  const dir = await tempDir();
  const video = await makeIndexVideo(join(dir, 'index.mkv'), 60, '64x48');
  const indices = [0, 13, 40, 45, 59];
  const frames = indices.map((index) => ({ index, time: index / 10 }));
  const cache = join(dir, 'cache');
  const strip = await filmstrip(video, frames, { width: 64, height: 48 }, cache);
  assert.deepEqual(strip.times, [0, 1.3, 4, 4.5, 5.9]);
  assert.equal(strip.tileHeight, THUMB_HEIGHT);
  assert.equal(strip.tileWidth, 72);
  assert.equal(strip.columns, 5);
  const rgb = await decodeSprite(strip.image, strip.columns * strip.tileWidth, strip.tileHeight);
  for (const [i, index] of indices.entries()) {
    const x = i * strip.tileWidth + strip.tileWidth / 2;
    const y = strip.tileHeight / 2;
    const at = (y * strip.columns * strip.tileWidth + x) * 3;
    const got = [rgb[at], rgb[at + 1], rgb[at + 2]];
    const want = indexColor(index);
    assert.ok(got.every((v, c) => Math.abs(v - want[c]) <= 12), `tile ${i} is frame ${index}: ${got} ≈ ${want}`);
  }
  // Asked again: the same file, not decoded again.
  const made = (await stat(strip.image)).mtimeMs;
  const again = await filmstrip(video, frames, { width: 64, height: 48 }, cache);
  assert.equal(again.image, strip.image);
  assert.equal((await stat(again.image)).mtimeMs, made);
});

test('a file FFmpeg cannot read: one line naming it, and no sprite left behind', async () => {
  const dir = await tempDir();
  const bad = join(dir, 'not-a-video.mp4');
  await writeFile(bad, 'not a video');
  await assert.rejects(filmstrip(bad, [{ index: 0, time: 0 }], { width: 64, height: 48 }, join(dir, 'cache')), (error: Error) => {
    assert.match(error.message, /not-a-video\.mp4: cannot make the filmstrip/);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
  assert.deepEqual(await readdir(join(dir, 'cache')).catch(() => []), [], 'no sprite, no partial file');
});

/**
 * Stills (library thumbnails, the preview's filmstrip): frames decoded already scaled by the
 * media worker, the right frame by index or by time, and a cache that is whole or absent.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { decodePng } from '../../server/src/io/png';
import { outputSize } from '../../server/src/video/media/avOperations';
import { VideoError } from '../../server/src/video/probe';
import { cachedStill, decodeStills } from '../../server/src/video/stills';
import { videoThumbnail } from '../../server/src/video/thumbnail';
import { resolveTool } from '../../server/src/video/tools';
import { indexColor, makeIndexVideo, tempDir } from '../helpers/videos';

let dir: string;
let clip: string;

before(async () => {
  dir = await tempDir();
  // 30 frames at 10 fps, 320x240: frame n is filled with indexColor(n).
  clip = await makeIndexVideo(join(dir, 'index.mkv'), 30, '320x240', 10);
});

function near(rgb: Uint8Array, color: [number, number, number]): boolean {
  const mid = Math.floor(rgb.length / 6) * 3;
  return color.every((c, i) => Math.abs(rgb[mid + i] - c) <= 2);
}

test('outputSize keeps the upright aspect, even sides, and never enlarges', () => {
  assert.deepEqual(outputSize(1920, 1080, 0, 96), [96, 54]);
  assert.deepEqual(outputSize(1920, 1080, 90, 96), [170, 96], 'a sideways frame is scaled before it is turned');
  assert.deepEqual(outputSize(32, 24, 0, 96), [32, 24]);
  assert.deepEqual(outputSize(1920, 1080, 0), [1920, 1080]);
});

for (const tool of ['media worker', 'ffmpeg binary'] as const) {
  test(`decodeStills through the ${tool}: the frames by index and at a time, scaled to the width asked`, async () => {
    const ffmpegPath = tool === 'ffmpeg binary' ? resolveTool('ffmpeg') : undefined;
    const byIndex = await decodeStills(clip, { indices: [17, 3, 3] }, 80, { ffmpegPath });
    assert.equal(byIndex.length, 3);
    for (const frame of byIndex) assert.deepEqual([frame.width, frame.height], [80, 60]);
    assert.ok(near(byIndex[0].rgb, indexColor(17)), 'first asked, first given');
    assert.ok(near(byIndex[1].rgb, indexColor(3)) && near(byIndex[2].rgb, indexColor(3)));
    const [at] = await decodeStills(clip, { at: 1.2 }, 80, { ffmpegPath });
    assert.ok(near(at.rgb, indexColor(12)), 'the frame at 1.2 s is frame 12');
  });
}

test('videoThumbnail: a PNG made once per video and time; a time past the end is a one-line error and leaves nothing', async () => {
  const cache = join(dir, 'thumbs');
  const first = await videoThumbnail(clip, 2.0, cache);
  const png = decodePng(await readFile(first));
  assert.deepEqual([png.width, png.height], [96, 72]);
  assert.ok(near(png.rgb, indexColor(20)));
  assert.equal(await videoThumbnail(clip, 2.04, cache), first, 'the same still (times to 0.1 s) from the cache');
  await assert.rejects(videoThumbnail(clip, 99, cache), (error: unknown) => error instanceof VideoError && /thumbnail at 99 s/.test(error.message) && !error.message.includes('\n'));
  assert.deepEqual((await readdir(cache)).filter((f) => f.includes('partial')), []);
});

test('cachedStill: a maker that fails leaves no file, and the next call makes it', async () => {
  const cache = join(dir, 'failing');
  await assert.rejects(cachedStill(clip, cache, ['x'], 'png', async () => { throw new Error('boom'); }), /boom/);
  assert.deepEqual(await readdir(cache).catch(() => []), []);
  const made = await cachedStill(clip, cache, ['x'], 'png', async () => new Uint8Array([1, 2, 3]));
  assert.deepEqual([...await readFile(made)], [1, 2, 3]);
});

/** The walkthrough's sample video, made with the ffmpeg from npm and read back with ffprobe. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeSampleVideo, SAMPLE_NAME, SAMPLE_SECONDS } from '../../client/src/sampleVideo';
import { probeVideo } from '../../server/src/video/probe';

test('the sample video is an 8 s 640x360 H.264 clip, made under a temporary name and reused after', async () => {
  const folder = join(mkdtempSync(join(tmpdir(), 'vscan-sample-')), 'not-yet-made');
  const file = await makeSampleVideo(folder);
  assert.equal(file, join(folder, SAMPLE_NAME));
  assert.deepEqual(readdirSync(folder), [SAMPLE_NAME], 'no partial file left behind');
  const probe = await probeVideo(file);
  assert.ok(Math.abs(probe.durationSec - SAMPLE_SECONDS) < 0.1, `duration ${probe.durationSec}`);
  assert.equal(probe.width, 640);
  assert.equal(probe.height, 360);
  assert.equal(probe.codec, 'h264');
  const made = statSync(file).mtimeMs;
  assert.equal(await makeSampleVideo(folder), file);
  assert.equal(statSync(file).mtimeMs, made, 'the second call reuses the file');
});

test('an existing file of that name is never replaced', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'vscan-sample-'));
  writeFileSync(join(folder, SAMPLE_NAME), 'mine');
  assert.equal(await makeSampleVideo(folder), join(folder, SAMPLE_NAME));
  assert.equal(readFileSync(join(folder, SAMPLE_NAME), 'utf8'), 'mine');
});

test('an ffmpeg that fails leaves no file and says which one it could not make', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'vscan-sample-'));
  // `false` runs and exits 1: a broken ffmpeg.
  await assert.rejects(makeSampleVideo(folder, '/bin/false'), new RegExp(`ffmpeg could not make the sample video ${join(folder, SAMPLE_NAME).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: exit 1`));
  assert.deepEqual(readdirSync(folder), []);
});

/**
 * The media worker (dist/media.js, FFmpeg 8 libraries through node-av in a child process):
 * its frames agree with the ffmpeg command line's, it turns rotated frames upright, and a
 * worker that crashes or hangs ends as the same one-line errors a failing ffmpeg gives, with
 * no process left behind.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { type DecodedFrame, decodeFrames } from '../../server/src/video/decode';
import { rotateRgb, uprightTurn } from '../../server/src/video/media/rotate';
import { probeVideo, VideoError } from '../../server/src/video/probe';
import { readPacketTable } from '../../server/src/video/seek';
import { killAllTools, mediaWorker, resolveTool, runTool } from '../../server/src/video/tools';
import { makeVideo, tempDir } from '../helpers/videos';

let dir: string;
let clip: string;

before(async () => {
  dir = await tempDir();
  clip = await makeVideo(join(dir, 'clip.mp4'), 2, '96x64', 10);
});

async function decodeWith(ffmpegPath: string | undefined, indices: number[]): Promise<DecodedFrame[]> {
  const frames: DecodedFrame[] = [];
  await decodeFrames(clip, indices, (frame) => frames.push(frame), { ffmpegPath, threads: 1 });
  return frames.sort((a, b) => a.position - b.position);
}

test('the worker runs on this Node (20 included) and reports FFmpeg 8 libraries', async () => {
  const worker = mediaWorker();
  const result = await runTool(worker.path, [...worker.args, 'probe', clip], { env: worker.env });
  assert.equal(result.exitCode, 0, result.stderr);
  const probe = await probeVideo(clip);
  assert.deepEqual([probe.codec, probe.width, probe.height, probe.frameCount, probe.fps], ['h264', 96, 64, 20, 10]);
});

test('the worker decodes the same frames as the ffmpeg command line (H.264, by index)', async () => {
  const indices = [0, 7, 13, 19];
  const ours = await decodeWith(undefined, indices);
  const theirs = await decodeWith(resolveTool('ffmpeg'), indices);
  assert.equal(ours.length, indices.length);
  for (const [i, frame] of ours.entries()) {
    assert.deepEqual([frame.width, frame.height], [theirs[i].width, theirs[i].height]);
    // Byte-identical on x86-64 (FFmpeg 4.1's and 8.1's swscale round YUV → RGB alike); one
    // level is allowed for other SIMD paths. A wrong frame (the pattern moves) differs by far more.
    let worst = 0;
    for (let p = 0; p < frame.rgb.length; p++) worst = Math.max(worst, Math.abs(frame.rgb[p] - theirs[i].rgb[p]));
    assert.ok(worst <= 1, `frame ${indices[i]}: max difference ${worst}`);
  }
  // And a neighbouring frame is told apart by that bound.
  const [neighbour] = await decodeWith(undefined, [8]);
  let worst = 0;
  for (let p = 0; p < neighbour.rgb.length; p++) worst = Math.max(worst, Math.abs(neighbour.rgb[p] - ours[1].rgb[p]));
  assert.ok(worst > 1, `frames 7 and 8 differ by ${worst}`);
});

test('the packet table lists one packet per frame with presentation times', async () => {
  const table = await readPacketTable(clip);
  assert.equal(table.times.length, 20);
  assert.ok(table.keyframe[0]);
  table.times.forEach((time, i) => assert.ok(Math.abs(time - table.times[0] - i / 10) < 1e-6, `packet ${i} at ${time}`));
});

test('upright turns: the reported angle (counter-clockwise) becomes a clockwise quarter turn', () => {
  assert.deepEqual([uprightTurn(0), uprightTurn(90), uprightTurn(-90), uprightTurn(180), uprightTurn(-180), uprightTurn(89.99), uprightTurn(NaN)], [0, 270, 90, 180, 180, 270, 0]);
  // 2×1 image [A B] turned clockwise is 1×2 [A; B]; turned 180° is [B A]; 270° is [B; A].
  const image = new Uint8Array([1, 1, 1, 2, 2, 2]);
  assert.deepEqual(rotateRgb(image, 2, 1, 90), { width: 1, height: 2, rgb: new Uint8Array([1, 1, 1, 2, 2, 2]) });
  assert.deepEqual(rotateRgb(image, 2, 1, 180), { width: 2, height: 1, rgb: new Uint8Array([2, 2, 2, 1, 1, 1]) });
  assert.deepEqual(rotateRgb(image, 2, 1, 270), { width: 1, height: 2, rgb: new Uint8Array([2, 2, 2, 1, 1, 1]) });
  // 2×2 [A B; C D] clockwise is [C A; D B].
  const square = new Uint8Array([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
  assert.deepEqual([...rotateRgb(square, 2, 2, 90).rgb].filter((_, i) => i % 3 === 0), [3, 1, 4, 2]);
});

test('a worker that crashes or hangs ends as one line naming the file, and is not left running', async () => {
  const crashing = join(dir, 'crashing-worker.js');
  await writeFile(crashing, "process.kill(process.pid, 'SIGSEGV');\n");
  const hanging = join(dir, 'hanging-worker.js');
  await writeFile(hanging, 'setInterval(() => {}, 1000);\n');
  const oneLine = (pattern: RegExp) => (error: unknown) => error instanceof VideoError && !error.message.includes('\n') && pattern.test(error.message);
  try {
    process.env.VSCAN_MEDIA_WORKER = crashing;
    await assert.rejects(probeVideo(clip), oneLine(/clip\.mp4: not a readable video \(ended by SIGSEGV\)$/));
    await assert.rejects(decodeFrames(clip, [0], () => {}), oneLine(/clip\.mp4: the decoder failed \(ended by SIGSEGV\)$/));
    await assert.rejects(readPacketTable(clip), oneLine(/clip\.mp4: cannot read packets \(ended by SIGSEGV\)$/));

    process.env.VSCAN_MEDIA_WORKER = hanging;
    await assert.rejects(probeVideo(clip, { timeoutMs: 300 }), oneLine(/clip\.mp4: Command timed out after 300 ms$/));
    await assert.rejects(decodeFrames(clip, [0], () => {}, { stallTimeoutMs: 300 }), oneLine(/clip\.mp4: the decoder produced no frame for 300 ms$/));
    const controller = new AbortController();
    const cancelled = probeVideo(clip, { signal: controller.signal });
    setImmediate(() => controller.abort());
    await assert.rejects(cancelled, oneLine(/clip\.mp4: Cancelled$/));
    assert.equal(killAllTools(), 0, 'every worker was killed when its call ended');
  } finally {
    delete process.env.VSCAN_MEDIA_WORKER;
  }
});

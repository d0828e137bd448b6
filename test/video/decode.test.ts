/** Decoding and preprocessing on generated videos whose frame colours encode their index. */
import assert from 'node:assert/strict';
import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { decodeFrames, PpmReader } from '../../server/src/video/decode';
import { prepareVideo } from '../../server/src/video/pipeline';
import { DEFAULT_GEOMETRY, TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { probeVideo } from '../../server/src/video/probe';
import { chooseDecodeMethod, decodeFramesBySeeking, readPacketTable } from '../../server/src/video/seek';
import { resolveTool, runTool } from '../../server/src/video/tools';
import { indexColor, makeIndexVideo, makeVideo, tempDir } from '../helpers/videos';

let dir: string;
before(async () => {
  dir = await tempDir();
});

async function decodeAll(file: string, indices: number[]) {
  const frames: { position: number; width: number; height: number; rgb: Uint8Array }[] = [];
  await decodeFrames(file, indices, (frame) => frames.push(frame));
  return frames.sort((a, b) => a.position - b.position);
}

function assertFilled(rgb: Uint8Array, color: [number, number, number], what: string) {
  for (let i = 0; i < rgb.length; i += 3) {
    if (rgb[i] !== color[0] || rgb[i + 1] !== color[1] || rgb[i + 2] !== color[2]) {
      assert.fail(`${what}: pixel ${i / 3} is ${rgb[i]},${rgb[i + 1]},${rgb[i + 2]}, expected ${color}`);
    }
  }
}

test('decodes exactly the requested frames, in plan order, repeated indices included', async () => {
  const file = await makeIndexVideo(join(dir, 'index.mkv'), 40, '33x17');
  const indices = [0, 3, 3, 17, 39];
  const frames = await decodeAll(file, indices);
  assert.deepEqual(frames.map((f) => f.position), [0, 1, 2, 3, 4]);
  frames.forEach((frame, i) => {
    assert.deepEqual([frame.width, frame.height], [33, 17]);
    assertFilled(frame.rgb, indexColor(indices[i]), `frame ${indices[i]}`);
  });
});

test('variable frame rate: frames are selected by index, not by time', async () => {
  // 30 frames: the first 15 at 10 fps, the rest 0.3 s apart.
  const file = await makeIndexVideo(join(dir, 'vfr.mkv'), 30, '16x16', 10, 'if(lt(N,15),N*0.1,1.5+(N-15)*0.3)/TB');
  const probe = await probeVideo(file);
  assert.equal(probe.frameCount, 30);
  const frames = await decodeAll(file, [1, 14, 15, 16, 29]);
  frames.forEach((frame, i) => assertFilled(frame.rgb, indexColor([1, 14, 15, 16, 29][i]), `vfr frame ${i}`));
});

test('pipeline: planned frames are decoded, resized and patchified in the Hugging Face order', async () => {
  const file = await makeIndexVideo(join(dir, 'pipeline with spaces, "quotes" & ünïcode.mkv'), 30, '32x24');
  const prepared = await prepareVideo(file, { sampling: TRAINING_DEFAULTS });
  const { plan, pixelValues } = prepared;
  // 30 frames at 10 fps = 3 s → 6 frames; 32×24 is scaled up to the 128-token minimum.
  assert.deepEqual(plan.frameIndices, [0, 6, 12, 17, 23, 29]);
  assert.deepEqual([plan.resizedWidth, plan.resizedHeight], [448, 320]);
  assert.deepEqual(pixelValues.gridThw, [3, 20, 28]);
  assert.deepEqual([pixelValues.rows, pixelValues.columns], [3 * 20 * 28, 1536]);
  // Each frame is one colour, so every value of a row is known: columns are ordered
  // (channel, frame of the pair, y, x); rows (pair, block row, block column, 2×2).
  const norm = (v: number) => Math.fround(Math.fround(v - 127.5) / 127.5);
  for (const row of [0, 1, 559, 560, 1679]) {
    const pair = Math.floor(row / 560);
    for (let column = 0; column < 1536; column += 97) {
      const channel = Math.floor(column / 512);
      const frame = plan.frameIndices[pair * 2 + Math.floor((column % 512) / 256)];
      assert.equal(pixelValues.data[row * 1536 + column], norm(indexColor(frame)[channel]), `row ${row} column ${column}`);
    }
  }
  assert.ok(prepared.timings.decodeAndResize > 0);
});

test('patchify puts each 16×16 patch of the merge block in its row', async () => {
  // A still image with a horizontal gradient makes columns distinguishable.
  const file = join(dir, 'gradient.mkv');
  const ffmpeg = resolveTool('ffmpeg');
  const made = await runTool(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', "color=c=black:s=64x64:r=2:d=2,format=rgb24,geq=r='X*4':g='Y*4':b='128'",
    '-c:v', 'ffv1', '-pix_fmt', 'bgr0', file], { timeoutMs: 60_000 });
  assert.equal(made.exitCode, 0, made.stderr);
  const { plan, pixelValues, frames } = await prepareVideo(file, { sampling: { ...TRAINING_DEFAULTS, maxPixels: 200704 } });
  const width = plan.resizedWidth;
  const frame = frames[0];
  // Row r of the first pair: block (bh, bw) = (r / 4 / gw·½, …), within-block (mh, mw).
  const gw = width / 16;
  for (const row of [0, 1, 2, 3, 4, 5, gw * 2 + 1]) {
    const block = Math.floor(row / 4);
    const bh = Math.floor(block / (gw / 2));
    const bw = block % (gw / 2);
    const mh = Math.floor((row % 4) / 2);
    const mw = row % 2;
    const y = (bh * 2 + mh) * 16 + 5;
    const x = (bw * 2 + mw) * 16 + 9;
    const expected = Math.fround(Math.fround(frame[(y * width + x) * 3] - 127.5) / 127.5);
    assert.equal(pixelValues.data[row * 1536 + 5 * 16 + 9], expected, `row ${row}`);
  }
});

test('odd sizes, portrait and rotated videos decode at their display size', async () => {
  const odd = await makeIndexVideo(join(dir, 'odd.mkv'), 4, '1279x721', 2);
  const [frame] = await decodeAll(odd, [3]);
  assert.deepEqual([frame.width, frame.height], [1279, 721]);
  assertFilled(frame.rgb, indexColor(3), 'odd-size frame');
  const oddPlan = await prepareVideo(odd, { sampling: TRAINING_DEFAULTS });
  assert.deepEqual([oddPlan.plan.resizedWidth, oddPlan.plan.resizedHeight], [576, 320]);

  const portrait = await makeIndexVideo(join(dir, 'portrait.mkv'), 4, '18x32', 2);
  assert.deepEqual((await decodeAll(portrait, [0]))[0].width, 18);

  const plain = await makeVideo(join(dir, 'landscape.mp4'), 1, '64x32', 4);
  const rotated = join(dir, 'rotated.mp4');
  const result = await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-y', '-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated], { timeoutMs: 30_000 });
  assert.equal(result.exitCode, 0, result.stderr);
  const probe = await probeVideo(rotated);
  const [upright] = await decodeAll(rotated, [0]);
  assert.deepEqual([upright.width, upright.height], [32, 64]);
  assert.deepEqual([probe.width, probe.height], [32, 64]);
});

test('bad files fail with one line naming the file', async () => {
  const text = join(dir, 'notes.mp4');
  await writeFile(text, 'not a video\n');
  await assert.rejects(prepareVideo(text, { sampling: TRAINING_DEFAULTS }), (e: Error) => e.message.startsWith(text) && !e.message.includes('\n'));

  // Truncated MP4s: without the index (moov at the end, cut off), and with the index at the
  // front but the frames it lists cut off.
  const whole = await makeVideo(join(dir, 'whole.mp4'), 6, '160x120', 10);
  const front = join(dir, 'front.mp4');
  assert.equal((await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-y', '-i', whole, '-c', 'copy', '-movflags', '+faststart', front], { timeoutMs: 30_000 })).exitCode, 0);
  for (const [source, name] of [[whole, 'cut-index.mp4'], [front, 'cut-frames.mp4']]) {
    const truncated = join(dir, name);
    await copyFile(source, truncated);
    await truncate(truncated, Math.floor((await readFile(truncated)).length / 3));
    await assert.rejects(prepareVideo(truncated, { sampling: TRAINING_DEFAULTS }), (e: Error) => e.message.startsWith(truncated) && !e.message.includes('\n'), name);
  }

  const sound = join(dir, 'sound.mp4');
  const made = await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '1', sound], { timeoutMs: 30_000 });
  assert.equal(made.exitCode, 0);
  await assert.rejects(prepareVideo(sound, { sampling: TRAINING_DEFAULTS }), /sound\.mp4: has audio but no video stream/);

  const single = await makeIndexVideo(join(dir, 'single.mkv'), 1, '32x32', 1);
  await assert.rejects(prepareVideo(single, { sampling: TRAINING_DEFAULTS }), /single\.mkv: 1 frame to sample from; the model needs at least 2/);
});

test('decoding is cancellable and kills ffmpeg', async () => {
  const file = await makeIndexVideo(join(dir, 'cancel.mkv'), 200, '640x480', 25);
  const controller = new AbortController();
  let frames = 0;
  const running = decodeFrames(file, Array.from({ length: 200 }, (_, i) => i), () => {
    if (++frames === 2) controller.abort();
  }, { signal: controller.signal, threads: 1 });
  await assert.rejects(running, /cancelled/);
  assert.ok(frames < 200);
});

test('PPM reader rejects malformed headers instead of reading out of bounds', () => {
  assert.throws(() => new PpmReader().push(Buffer.from('P5\n1 1\n255\n\0')), /other than a PPM/);
  assert.throws(() => new PpmReader().push(Buffer.from('P6\n99999 99999\n255\n')), /unexpected PPM frame header/);
  const reader = new PpmReader();
  assert.deepEqual(reader.push(Buffer.from('P6\n1 1\n25')), []);
  const [frame] = reader.push(Buffer.from('5\n\x01\x02\x03', 'latin1'));
  assert.deepEqual([...frame.rgb], [1, 2, 3]);
  void DEFAULT_GEOMETRY;
});

test('seeking returns the same frames as the sequential pass (H.264 with B-frames, short GOP)', async () => {
  const file = join(dir, 'gop.mp4');
  const made = await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=25', '-t', '8',
    '-c:v', 'libx264', '-g', '12', '-bf', '2', '-pix_fmt', 'yuv420p', file], { timeoutMs: 60_000 });
  assert.equal(made.exitCode, 0, made.stderr);
  const sequential = await prepareVideo(file, { sampling: TRAINING_DEFAULTS, decodeMethod: 'sequential' });
  const seek = await prepareVideo(file, { sampling: TRAINING_DEFAULTS, decodeMethod: 'seek' });
  assert.equal(seek.decode.method, 'seek');
  assert.deepEqual(seek.plan.frameIndices, sequential.plan.frameIndices);
  seek.frames.forEach((frame, i) => assert.ok(Buffer.from(frame).equals(Buffer.from(sequential.frames[i])), `frame ${i} differs`));
});

test('auto estimates both methods for a sparse plan; seeking by index finds the right frames', async () => {
  const file = await makeIndexVideo(join(dir, 'long.mkv'), 3000, '16x16', 25); // FFV1: every frame a keyframe
  const sparse = await prepareVideo(file, { sampling: { ...TRAINING_DEFAULTS, fps: 0.1 } });
  // 16×16 frames decode in microseconds: starting a decoder per frame would cost more.
  assert.equal(sparse.decode.method, 'sequential');
  assert.ok(sparse.decode.seekFrames > sparse.decode.sequentialFrames);
  const forced = await prepareVideo(file, { sampling: { ...TRAINING_DEFAULTS, fps: 0.1 }, decodeMethod: 'seek' });
  forced.frames.forEach((frame, i) => assert.ok(Buffer.from(frame).equals(Buffer.from(sparse.frames[i])), `frame ${i}`));
  // The seek path decoded the right frames: a one-colour frame resized keeps its colour.
  const seekFrames: { position: number; rgb: Uint8Array }[] = [];
  await decodeFramesBySeeking(file, [0, 1, 1234, 2999], await readPacketTable(file), (f) => seekFrames.push(f));
  seekFrames.sort((a, b) => a.position - b.position).forEach((f, i) => assertFilled(f.rgb, indexColor([0, 1, 1234, 2999][i]), `seek frame ${i}`));
});

test('the cost estimate', async () => {
  const everyKey = { times: Array.from({ length: 1000 }, (_, i) => i / 25), keyframe: Array(1000).fill(true) };
  const hd = 1920 * 1080;
  assert.equal(chooseDecodeMethod([0, 500, 999], everyKey, 1000, hd).method, 'seek');
  const oneKey = { times: everyKey.times, keyframe: everyKey.times.map((_, i) => i === 0) };
  assert.equal(chooseDecodeMethod([0, 500, 999], oneKey, 1000, hd).method, 'sequential');
  assert.equal(chooseDecodeMethod([0, 500, 999], undefined, 1000, hd).method, 'sequential');
  assert.equal(chooseDecodeMethod([0, 500, 999], everyKey, 1001, hd).method, 'sequential', 'a packet table that disagrees with the frame count is not trusted');
  // Small frames decode so fast that starting a decoder per frame costs more than the pass.
  const keyEvery60 = { times: Array.from({ length: 36_000 }, (_, i) => i / 30), keyframe: Array.from({ length: 36_000 }, (_, i) => i % 60 === 0) };
  const sparse = Array.from({ length: 240 }, (_, i) => Math.round((i * 35_999) / 239));
  assert.equal(chooseDecodeMethod(sparse, keyEvery60, 36_000, 640 * 360).method, 'sequential');
  assert.equal(chooseDecodeMethod(sparse, keyEvery60, 36_000, hd).method, 'seek');
});

test('a window far into the file starts its pass there and still decodes the right frames', async () => {
  const file = await makeIndexVideo(join(dir, 'windowed.mkv'), 900, '16x16', 30); // 30 s
  const prepared = await prepareVideo(file, { sampling: { ...TRAINING_DEFAULTS, start: 20, end: 25 } });
  assert.equal(prepared.plan.firstFrame, 600);
  prepared.plan.frameIndices.forEach((index, i) => assertFilled(prepared.frames[i], indexColor(index), `frame ${index}`));
});

import assert from 'node:assert/strict';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ProbeCache, probeVideo, VideoError } from '../../server/src/video/probe';
import { mediaWorker, resolveTool, runTool, ToolError } from '../../server/src/video/tools';
import { makeVideo, tempDir } from '../helpers/videos';

let dir: string;
let ffmpeg: string;

before(async () => {
  dir = await tempDir();
  ffmpeg = resolveTool('ffmpeg');
});

async function ffmpegMake(args: string[]): Promise<void> {
  const result = await runTool(ffmpeg, ['-v', 'error', '-y', ...args], { timeoutMs: 60_000 });
  assert.equal(result.exitCode, 0, result.stderr);
}

test('probes duration, size, rate and codecs; paths with spaces, quotes and unicode', async () => {
  const file = join(dir, `it's a "clip" ünï 🎬.mp4`);
  await makeVideo(file, 3, '160x120', 10);
  const probe = await probeVideo(file);
  assert.ok(Math.abs(probe.durationSec - 3) < 0.05, String(probe.durationSec));
  assert.deepEqual([probe.width, probe.height, probe.fps, probe.codec, probe.hasAudio, probe.frameCount], [160, 120, 10, 'h264', false, 30]);
});

test('audio presence and rotation metadata', async () => {
  const plain = join(dir, 'with-audio.mp4');
  const file = join(dir, 'rotated.mp4');
  await ffmpegMake(['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', plain]);
  // The display matrix survives a stream copy (re-encoding would drop it).
  await ffmpegMake(['-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', file]);
  const probe = await probeVideo(file);
  assert.deepEqual([probe.width, probe.height, probe.hasAudio, probe.audioCodec], [120, 160, true, 'aac']);
  assert.ok(probe.rotation === 90 || probe.rotation === 270, String(probe.rotation));
  assert.deepEqual([(await probeVideo(plain)).width, (await probeVideo(plain)).rotation], [160, 0]);
});

test('bad files fail with a one-line reason naming the file', async () => {
  const text = join(dir, 'notes.mp4');
  await writeFile(text, 'just some text\n');
  await assert.rejects(probeVideo(text), (error: unknown) => error instanceof VideoError && error.message.startsWith(`${text}: not a readable video`) && !error.message.includes('\n'));
  const audio = join(dir, 'sound.m4a');
  await ffmpegMake(['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '1', '-c:a', 'aac', audio]);
  await assert.rejects(probeVideo(audio), /sound\.m4a: has audio but no video stream/);
  await assert.rejects(probeVideo(join(dir, 'absent.mp4')), /absent\.mp4: no such file/);
});

test('the cache probes each file version once', async () => {
  const file = join(dir, 'cached.mp4');
  await makeVideo(file, 1);
  const cache = new ProbeCache();
  const first = cache.get(file);
  assert.equal(await cache.get(file), await first);
  const changed = new Date(Date.now() + 5000);
  await utimes(file, changed, changed);
  assert.notEqual(await cache.get(file), await first);
});

test('tools: clear errors for a missing binary, timeouts and cancellation kill the process', async () => {
  assert.throws(() => resolveTool('ffprobe', join(dir, 'no-such-ffprobe')), (e: unknown) => e instanceof ToolError && /no-such-ffprobe is missing or not executable/.test((e as Error).message));
  const endless = ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc', '-f', 'null', '-'];
  await assert.rejects(runTool(ffmpeg, endless, { timeoutMs: 300 }), /timed out after 300 ms/);
  const controller = new AbortController();
  const running = runTool(ffmpeg, endless, { signal: controller.signal });
  setImmediate(() => controller.abort());
  await assert.rejects(running, /Cancelled/);
});

test('a FIFO is refused before the media worker opens it; a worker stuck on one anyway is killed by its timeout', async () => {
  const { execFileSync } = await import('node:child_process');
  const fifo = join(dir, 'stuck.mp4');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(probeVideo(fifo), (error: unknown) => error instanceof VideoError && /stuck\.mp4: not a regular file/.test(error.message));
  await assert.rejects(new ProbeCache().get(fifo), /not a regular file/);
  // Nobody writes to the FIFO: the worker blocks opening it until the timeout kills it.
  const worker = mediaWorker();
  await assert.rejects(runTool(worker.path, [...worker.args, 'probe', fifo], { timeoutMs: 500, env: worker.env }), (error: unknown) => error instanceof ToolError && /timed out after 500 ms/.test(error.message));
});

test('a task pool runs at most its size at once, hands a freed slot to the next in order, and survives failures', async () => {
  const { TaskPool } = await import('../../server/src/video/tools');
  const pool = new TaskPool(2);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const task = (i: number) => pool.run(async () => {
    most = Math.max(most, ++running);
    await new Promise((r) => setImmediate(r));
    running--;
    order.push(i);
    if (i === 3) throw new Error('task 3 failed');
    return i;
  });
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => task(i)));
  assert.equal(most, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(results.filter((r) => r.status === 'rejected').length, 1);
  // Arriving while slots change hands, a new task still waits its turn.
  assert.equal(await task(8), 8);
  assert.equal(most, 2);
});

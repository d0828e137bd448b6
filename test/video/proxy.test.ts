import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { needsProxy, previewProxy } from '../../server/src/video/previewProxy';
import { probeVideo } from '../../server/src/video/probe';
import { resolveTool, runTool } from '../../server/src/video/tools';
import { makeVideo, tempDir } from '../helpers/videos';

let dir: string;
before(async () => {
  dir = await tempDir('vscan-proxy-');
});

test('which videos the webview cannot play', () => {
  assert.equal(needsProxy({ codec: 'h264', pixelFormat: 'yuv420p', hasAudio: false, audioCodec: undefined }), undefined);
  assert.equal(needsProxy({ codec: 'vp9', pixelFormat: 'yuv420p', hasAudio: true, audioCodec: 'opus' }), undefined);
  assert.equal(needsProxy({ codec: 'hevc', pixelFormat: 'yuv420p', hasAudio: false, audioCodec: undefined }), 'hevc video');
  assert.equal(needsProxy({ codec: 'h264', pixelFormat: 'yuv420p', hasAudio: true, audioCodec: 'aac' }), 'aac audio');
  assert.equal(needsProxy({ codec: 'h264', pixelFormat: 'yuv444p', hasAudio: false, audioCodec: undefined }), 'yuv444p H.264');
});

test('an HEVC + AAC video gets an H.264 + Opus proxy, made once and cached by file identity', async () => {
  const source = join(dir, 'clip.mov');
  const made = await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-t', '2', '-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', source], { timeoutMs: 60_000 });
  assert.equal(made.exitCode, 0, made.stderr);
  const probe = await probeVideo(source);
  assert.equal(needsProxy(probe), 'hevc video');
  const cache = join(dir, 'cache');
  const proxy = await previewProxy(source, probe.durationSec, cache);
  const out = await probeVideo(proxy);
  assert.deepEqual([out.codec, out.audioCodec, out.width, out.height], ['h264', 'opus', 320, 240]);
  assert.equal(needsProxy(out), undefined);
  assert.equal(await previewProxy(source, probe.durationSec, cache), proxy, 'the second call reuses the proxy');
  const plain = await makeVideo(join(dir, 'plain.mp4'), 1);
  assert.equal(needsProxy(await probeVideo(plain)), undefined);
});

test('a rotated video\'s proxy keeps its rotation, so it plays upright; a failed proxy leaves no file', async () => {
  const filmed = join(dir, 'filmed.mp4');
  const made = await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x32:rate=10', '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-t', '1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', filmed], { timeoutMs: 60_000 });
  assert.equal(made.exitCode, 0, made.stderr);
  // The rotation a phone records: a display matrix on the stream, the pixels as filmed.
  const source = join(dir, 'phone.mp4');
  const turned = await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-y', '-i', filmed, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', source], { timeoutMs: 60_000 });
  assert.equal(turned.exitCode, 0, turned.stderr);
  const probe = await probeVideo(source);
  assert.deepEqual([probe.width, probe.height, needsProxy(probe)], [32, 64, 'aac audio']);
  const proxy = await probeVideo(await previewProxy(source, probe.durationSec, join(dir, 'cache')));
  assert.deepEqual([proxy.width, proxy.height, proxy.rotation], [32, 64, probe.rotation]);

  const broken = join(dir, 'broken.mov');
  await writeFile(broken, 'not a video');
  const cache = join(dir, 'broken-cache');
  await assert.rejects(previewProxy(broken, 1, cache), (e: Error) => e.message.startsWith(`${broken}: cannot make a preview proxy (`) && !e.message.includes('\n'));
  assert.deepEqual(await readdir(cache), []);
});

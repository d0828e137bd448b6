/**
 * `npm run test:package`: builds every platform's .vsix once into a temp folder with
 * .ci/package.mjs (fetching the other platforms' node-av addons from the npm registry), opens each
 * as the zip it is, and checks every binary inside by its header: all of them for the
 * package's platform, the expected node-av addon (the media worker's FFmpeg) and ONNX Runtime
 * present, no ffmpeg/ffprobe program, nothing of another platform.
 * On a linux-x64 host the linux-x64 package is also unpacked and run.
 * Not part of `npm test` (a minute of packaging and network access to the registry).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import * as yauzl from 'yauzl';
import { binaryFormat } from '../helpers/binaryFormat';

const root = join(__dirname, '..', '..');
const out = mkdtempSync(join(tmpdir(), 'vscan-vsix-'));

/** What each target's binaries must be, and which it must carry (paths inside extension/node_modules/). */
const EXPECTED: Record<string, { format: string; binaries: string[] }> = {
  'linux-x64': { format: 'ELF x86-64', binaries: ['@seydx/node-av-linux-x64/node-av.node', 'onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node', 'onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1', 'webgpu/dist/linux-x64/dawn.node'] },
  'linux-arm64': { format: 'ELF aarch64', binaries: ['@seydx/node-av-linux-arm64/node-av.node', 'onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node', 'onnxruntime-node/bin/napi-v6/linux/arm64/libonnxruntime.so.1'] },
  'win32-x64': { format: 'PE x86-64', binaries: ['@seydx/node-av-win32-x64-msvc/node-av.node', 'onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime_binding.node', 'onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime.dll', 'onnxruntime-node/bin/napi-v6/win32/x64/DirectML.dll', 'webgpu/dist/win32-x64/dawn.node'] },
  // onnxruntime-node 1.30 publishes no darwin/x64 binaries: the media worker's FFmpeg libraries only.
  'darwin-x64': { format: 'Mach-O x86_64', binaries: ['@seydx/node-av-darwin-x64/node-av.node'] },
  'darwin-arm64': { format: 'Mach-O arm64', binaries: ['@seydx/node-av-darwin-arm64/node-av.node', 'onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node', 'onnxruntime-node/bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib', 'webgpu/dist/darwin-universal/dawn.node'] },
};

interface Entry { name: string; header: Buffer; mode: number }

/** Every file entry of a .vsix with its first 4 KiB (enough for any header checked here). */
async function readVsix(file: string): Promise<{ entries: Entry[]; text: (name: string) => Promise<string> }> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  const entries: Entry[] = [];
  const texts = new Map<string, string>();
  for await (const entry of zip.eachEntry()) {
    if (entry.fileName.endsWith('/')) continue;
    const chunks: Buffer[] = [];
    let size = 0;
    const full = entry.fileName.endsWith('.vsixmanifest') || entry.fileName === 'extension/package.json';
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (!full && size >= 4096) break;
    }
    stream.destroy();
    const bytes = Buffer.concat(chunks);
    if (full) texts.set(entry.fileName, bytes.toString('utf8'));
    entries.push({ name: entry.fileName, header: bytes.subarray(0, 4096), mode: (entry.externalFileAttributes >>> 16) & 0o777 });
  }
  zip.close();
  return { entries, text: async (name) => texts.get(name) ?? '' };
}

before(() => {
  // One packaging run for every test below.
  execFileSync(process.execPath, [join(root, '.ci', 'package.mjs'), '--out', out], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 });
}, { timeout: 900_000 });

after(() => rmSync(out, { recursive: true, force: true }));

for (const [target, expected] of Object.entries(EXPECTED)) {
  test(`video-scan-${target}.vsix: ${expected.format} binaries only, with its FFmpeg libraries${expected.binaries.length > 1 ? ' and ONNX Runtime' : ' (no ONNX Runtime build exists)'}`, async () => {
    const { entries, text } = await readVsix(join(out, `video-scan-${target}.vsix`));
    assert.match(await text('extension.vsixmanifest'), new RegExp(`TargetPlatform="${target}"`));

    const binaries = entries.map((e) => ({ ...e, format: binaryFormat(e.header) })).filter((e) => e.format);
    // A universal Mach-O (Dawn's binding on macOS) counts when it holds this target's architecture.
    const fits = (format: string) => format === expected.format || (format.startsWith('Mach-O universal ') && format.slice(16).split('+').includes(expected.format.slice(7)));
    const foreign = binaries.filter((b) => !fits(b.format!)).map((b) => `${b.name}: ${b.format}`);
    assert.deepEqual(foreign, [], 'no binary of another platform');
    // FFmpeg ships once, as the media worker's libraries: no ffmpeg or ffprobe program.
    assert.deepEqual(entries.filter((e) => /\/(ffmpeg|ffprobe)(\.exe)?$|@ffmpeg-installer|ffprobe-static/.test(e.name)).map((e) => e.name), [], 'no ffmpeg or ffprobe binary');
    const names = new Set(binaries.map((b) => b.name.replace(/^extension\/node_modules\//, '')));
    for (const binary of expected.binaries) assert.ok(names.has(binary), `${binary} is in the package as a ${expected.format} binary`);
    if (target === 'darwin-x64') assert.ok(!entries.some((e) => e.name.includes('/bin/napi-v6/')), 'no ONNX Runtime binaries');

    // No folder of another platform, even without a binary in it.
    for (const other of Object.keys(EXPECTED).filter((t) => t !== target)) {
      const [platform, arch] = other.split('-');
      const theirs = entries.filter((e) => e.name.includes(`/@seydx/node-av-${other}`) || e.name.includes(`/bin/${platform}/${arch}/`) || e.name.includes(`/napi-v6/${platform}/${arch}/`) || e.name.includes(`/webgpu/dist/${other}/`));
      assert.deepEqual(theirs.map((e) => e.name), [], `nothing of ${other}`);
    }
    // The bundles and what the editor needs are there.
    for (const file of ['extension/client/media/walkthrough/model.md', 'extension/dist/client.js', 'extension/dist/server.js', 'extension/dist/engine.js', 'extension/dist/media.js', 'extension/package.json', 'extension/syntaxes/vscan.tmLanguage.json']) {
      assert.ok(entries.some((e) => e.name === file), file);
    }
    const manifest = JSON.parse(await text('extension/package.json')) as { contributes: { commands: { command: string }[] } };
    assert.ok(manifest.contributes.commands.some((c) => c.command === 'videoScan.installCuda'));
  });
}

const host = `${process.platform}-${process.arch}`;
test(`the host's package (${host}), unpacked, runs its own ffmpeg, media worker and ONNX Runtime`, async () => {
  const expected = EXPECTED[host];
  assert.ok(expected, `${host} is a packaged target`);
  const dir = mkdtempSync(join(tmpdir(), 'vscan-vsix-unpacked-'));
  try {
    const zip = await yauzl.openPromise(join(out, `video-scan-${host}.vsix`), { lazyEntries: true });
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      const target = join(dir, entry.fileName);
      mkdirSync(dirname(target), { recursive: true });
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      writeFileSync(target, Buffer.concat(chunks));
      chmodSync(target, (entry.externalFileAttributes >>> 16) & 0o777 || 0o644);
    }
    const modules = join(dir, 'extension', 'node_modules');
    const run = (file: string, args: string[]) => promisify(execFile)(file, args, { timeout: 60_000, env: { ...process.env, VSCAN_RUNTIME_DIR: join(dir, 'none'), XDG_CACHE_HOME: join(dir, 'cache') } });
    // The media worker, with the package's own addon: FFmpeg 8, and it encodes, probes and decodes.
    const worker = join(dir, 'extension', 'dist', 'media.js');
    assert.match((JSON.parse((await run(process.execPath, [worker, 'version'])).stdout) as { ffmpeg: string }).ffmpeg, /^8\./);
    const clip = join(dir, 'clip.mp4');
    await run(process.execPath, [worker, 'testpattern', clip, '1']);
    const probed = JSON.parse((await run(process.execPath, [worker, 'probe', clip])).stdout) as { streams: { codec_name: string; width: number; nb_frames: string }[] };
    assert.deepEqual([probed.streams[0].codec_name, probed.streams[0].width, probed.streams[0].nb_frames], ['h264', 640, '25']);
    const frame = await promisify(execFile)(process.execPath, [worker, 'decode', clip, '24'], { encoding: 'buffer', timeout: 60_000, maxBuffer: 4 << 20 });
    assert.equal(frame.stdout.length, 'P6\n640 360\n255\n'.length + 640 * 360 * 3);
    const status = JSON.parse((await run(process.execPath, [join(dir, 'extension', 'dist', 'cli.js'), 'runtime', 'status', '--json'])).stdout) as { runtimeFolder: string; library?: string; backends: { name: string }[] };
    assert.equal(status.runtimeFolder, join(modules, 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch));
    // Linux tells which libonnxruntime is mapped: the package's own.
    if (process.platform === 'linux') assert.equal(status.library, join(status.runtimeFolder, 'libonnxruntime.so.1'));
    assert.ok(status.backends.some((b) => b.name === 'cpu'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Installing the CUDA provider libraries from a NuGet v3 feed on 127.0.0.1 (no real
 * network): progress, SHA-512 verification, a dropped connection, cancellation,
 * re-install, and the folder the engine then loads its ONNX Runtime from. Loading the CUDA
 * provider itself needs a GPU and the real libraries, so it is not tested here; what is
 * tested is that the engine takes the installed folder and names the first library missing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { bundledOnnxRuntime, findInstallation, installFolderName, readInstallation } from '../../server/src/model/acquire/runtimeLayout';
import { cudaUnsupportedReason, installCudaProviders, type InstallProgress } from '../../server/src/model/acquire/runtimeLibraries';
import { CLI } from '../helpers/cli';
import { FAKE_LIBRARIES, makeFakeNupkg, startLoopbackFeed, type LoopbackFeed } from '../helpers/loopbackNuget';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

const ort = bundledOnnxRuntime();
let feed: LoopbackFeed;
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vscan-runtime-'));
  feed = await startLoopbackFeed(ort.version, await makeFakeNupkg(ort.version));
});
after(async () => {
  await feed.close();
  await rm(scratch, { recursive: true, force: true });
});

async function freshRoot(name: string): Promise<string> {
  return mkdtemp(join(scratch, `${name}-`));
}

function reset(mode: LoopbackFeed['mode'] = 'ok', hash?: string): void {
  feed.mode = mode;
  feed.requests.length = 0;
  if (hash) feed.publishedHash = hash;
}

/** The CLI run asynchronously (the feed answers from this process), with a bounded time. */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const realHash = () => feed.publishedHash;

test('install: progress to 100%, libraries verified and placed beside copies of the bundled binding and libonnxruntime', async () => {
  reset();
  const root = await freshRoot('install');
  const progress: InstallProgress[] = [];
  const result = await installCudaProviders({ root, feed: feed.index, onProgress: (p) => progress.push(p) });
  assert.equal(result.alreadyInstalled, false);
  assert.equal(result.folder, join(root, installFolderName(ort.version, 'cuda')));
  // The walk through the feed: index → versions → registration → catalog → .nupkg.
  assert.deepEqual(feed.requests.map((r) => r.split('/')[1]), ['v3', 'flat', 'registration', 'catalog', 'flat']);
  const fractions = progress.map((p) => p.fraction);
  assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), 'progress never goes back');
  assert.equal(fractions.at(-1), 1);
  assert.ok(progress.some((p) => p.stage === 'download' && p.fraction > 0.02 && p.fraction < 0.9));

  const files = (await readdir(result.folder)).sort();
  assert.deepEqual(files, ['install.json', 'libonnxruntime.so.1', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'onnxruntime_binding.node']);
  for (const name of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']) {
    assert.ok((await readFile(join(result.folder, name))).equals(FAKE_LIBRARIES[name]), name);
  }
  for (const name of ['libonnxruntime.so.1', 'onnxruntime_binding.node']) {
    assert.ok((await readFile(join(result.folder, name))).equals(await readFile(join(ort.binDir, name))), `${name} is the bundled one`);
  }
  const manifest = readInstallation(result.folder, ort.version);
  assert.ok(manifest);
  assert.equal(manifest.source.sha512, realHash());
  assert.equal(manifest.source.package, 'Microsoft.ML.OnnxRuntime.Gpu.Linux');
  assert.deepEqual(await readdir(root), [installFolderName(ort.version, 'cuda')], 'no staging folder left');
});

test('re-install: a complete folder is kept without a request; --force installs again; a damaged one is replaced', async () => {
  const root = await freshRoot('again');
  reset();
  await installCudaProviders({ root, feed: feed.index });
  reset();
  const again = await installCudaProviders({ root, feed: feed.index });
  assert.equal(again.alreadyInstalled, true);
  assert.deepEqual(feed.requests, []);

  const forced = await installCudaProviders({ root, feed: feed.index, force: true });
  assert.equal(forced.alreadyInstalled, false);
  assert.ok((feed.requests as string[]).some((r) => r.endsWith('.nupkg')));

  // A truncated library (size differs from the manifest): not an installation, so it is replaced.
  await rm(join(forced.folder, 'libonnxruntime_providers_cuda.so'));
  assert.equal(readInstallation(forced.folder, ort.version), undefined);
  const repaired = await installCudaProviders({ root, feed: feed.index });
  assert.equal(repaired.alreadyInstalled, false);
  assert.ok(readInstallation(repaired.folder, ort.version));
  assert.deepEqual(await readdir(root), [installFolderName(ort.version, 'cuda')]);
});

test('a wrong published hash installs nothing and says so in one line', async () => {
  const root = await freshRoot('hash');
  const good = realHash();
  reset('ok', createWrongHash(good));
  try {
    await assert.rejects(installCudaProviders({ root, feed: feed.index }), (error: Error) => {
      assert.match(error.message, /\.nupkg: SHA-512 mismatch .*nothing installed$/);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  } finally {
    feed.publishedHash = good;
  }
  assert.deepEqual(await readdir(root), []);
});

function createWrongHash(good: string): string {
  return (good[0] === 'A' ? 'B' : 'A') + good.slice(1);
}

test('a connection dropped halfway through the download installs nothing and names the URL and bytes', async () => {
  const root = await freshRoot('drop');
  reset('drop');
  await assert.rejects(installCudaProviders({ root, feed: feed.index }), (error: Error) => {
    assert.match(error.message, /^http:\/\/127\.0\.0\.1:\d+\/flat\/.+\.nupkg: download failed after \d+ of \d+ bytes \(.+\)$/);
    return true;
  });
  assert.deepEqual(await readdir(root), []);
  // The next attempt, with the feed healthy again, succeeds.
  reset();
  assert.equal((await installCudaProviders({ root, feed: feed.index })).alreadyInstalled, false);
});

test('cancelling during the download leaves nothing behind', async () => {
  const root = await freshRoot('cancel');
  reset('stall');
  const controller = new AbortController();
  await assert.rejects(
    installCudaProviders({ root, feed: feed.index, signal: controller.signal, onProgress: (p) => { if (p.stage === 'download' && p.fraction > 0.02) controller.abort(); } }),
    /cancelled; nothing installed/,
  );
  assert.deepEqual(await readdir(root), []);
});

test('a feed without the version, or with a broken index, fails naming the URL', async () => {
  const root = await freshRoot('missing');
  reset();
  const base = feed.index.replace('/v3/index.json', '');
  await assert.rejects(installCudaProviders({ root, feed: `${base}/nothing-here.json` }), /nothing-here\.json: HTTP 404$/);
  await assert.rejects(installCudaProviders({ root, feed: 'ftp://127.0.0.1/index.json' }), /not an http\(s\) URL/);
  assert.deepEqual(await readdir(root), []);
});

test('platforms without CUDA get their reason, Windows included (its binding has no CUDA provider)', () => {
  assert.equal(cudaUnsupportedReason('linux-x64'), undefined);
  assert.match(cudaUnsupportedReason('win32-x64') ?? '', /Windows binding is built without the CUDA execution provider/);
  assert.match(cudaUnsupportedReason('darwin-arm64') ?? '', /linux-x64 only/);
  assert.match(cudaUnsupportedReason('linux-arm64') ?? '', /linux-x64 only/);
});

test('vscan runtime install cuda (feed from VSCAN_NUGET_FEED), then the engine loads ONNX Runtime from the installed folder', async () => {
  const root = await freshRoot('cli');
  const cache = await freshRoot('xdg');
  reset();
  const env = { VSCAN_RUNTIME_DIR: root, VSCAN_NUGET_FEED: feed.index, XDG_CACHE_HOME: cache };
  const installed = await cli(['runtime', 'install', 'cuda', '--json'], env);
  assert.equal(installed.code, 0, installed.stderr);
  const report = JSON.parse(installed.stdout) as { folder: string; alreadyInstalled: boolean; sha512: string };
  assert.equal(report.alreadyInstalled, false);
  assert.equal(report.sha512, realHash());

  const status = await cli(['runtime', 'status', '--json'], env);
  assert.equal(status.code, 0, status.stderr);
  const state = JSON.parse(status.stdout) as { runtimeSource: string; runtimeFolder: string; library?: string; cudaProblem: string | null };
  assert.equal(state.runtimeSource, 'installed');
  assert.equal(state.runtimeFolder, report.folder);
  assert.equal(state.library, join(report.folder, 'libonnxruntime.so.1'), 'the libonnxruntime copy beside the providers is the one mapped');
  // The fake providers cannot load; what the engine reports first is the system library missing (none here without a GPU driver).
  if (state.cudaProblem !== null) assert.match(state.cudaProblem, /^.+ \(lib[\w.]+\.so\.\d+\) cannot be loaded: .+$/);

  // Without the installation the bundled binary is used and auto says what is missing.
  const plain = await cli(['runtime', 'status', '--json'], { VSCAN_RUNTIME_DIR: await freshRoot('empty'), XDG_CACHE_HOME: cache });
  const bundled = JSON.parse(plain.stdout) as { runtimeSource: string; library?: string; cudaProblem: string };
  assert.equal(bundled.runtimeSource, 'bundled');
  assert.equal(bundled.library, join(ort.binDir, 'libonnxruntime.so.1'));
  assert.match(bundled.cudaProblem, /CUDA provider libraries are not installed \(run `vscan runtime install cuda`/);

  // A model loaded with --ep auto runs on the installed ONNX Runtime; CUDA falls back with the library named.
  const { dir, tiny } = await tempTinyCheckpoint('vscan-runtime-tiny-', 3);
  try {
    const checked = await cli(['model', 'check', tiny, '--json', '--ep', 'auto'], env);
    assert.equal(checked.code, 0, checked.stderr);
    const result = JSON.parse(checked.stdout) as { ok: boolean; executionProvider: string; fallbackReason?: string };
    assert.equal(result.ok, true);
    if (result.executionProvider === 'cpu') assert.match(result.fallbackReason ?? '', /^CUDA unavailable \(.+ \(lib[\w.]+\) cannot be loaded: .+\); using CPU$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.ok(findInstallation('cuda') === undefined || findInstallation('cuda')!.folder !== report.folder, 'this process was not pointed at the test folder');
});

test('vscan runtime install cuda: a bad hash exits 2 with one line on stderr', async () => {
  const root = await freshRoot('cli-bad');
  const good = realHash();
  reset('ok', createWrongHash(good));
  try {
    const result = await cli(['runtime', 'install', 'cuda', '--dir', root, '--feed', feed.index], {});
    assert.equal(result.code, 2);
    const lines = result.stderr.trim().split('\n');
    assert.match(lines.at(-1)!, /^vscan: .+SHA-512 mismatch/);
    assert.ok(!lines.some((l) => l.startsWith('    at ')), 'no stack trace');
  } finally {
    feed.publishedHash = good;
  }
  assert.deepEqual(await readdir(root), []);
});

test('a platform whose package holds no ONNX Runtime (darwin-x64) gets a one-line reason instead of a missing-module stack', async () => {
  const { runtimeUnavailableReason } = await import('../../server/src/model/runtime/providerLibraries');
  assert.equal(runtimeUnavailableReason(ort.binDir), undefined);
  const reason = runtimeUnavailableReason(join(scratch, 'no-binaries'), 'darwin-x64');
  assert.match(reason ?? '', /^the model engine is not available on darwin-x64: onnxruntime-node publishes no ONNX Runtime binaries for it/);
});

test('an installed folder whose binding will not load is passed over for the bundled runtime, and auto says to reinstall', async () => {
  const root = await freshRoot('damaged');
  const cache = await freshRoot('xdg-damaged');
  reset();
  const { folder } = await installCudaProviders({ root, feed: feed.index });
  // Same size, wrong bytes: the manifest still matches, the loader refuses it.
  const size = (await readFile(join(folder, 'onnxruntime_binding.node'))).length;
  await writeFile(join(folder, 'onnxruntime_binding.node'), Buffer.alloc(size));
  const status = await cli(['runtime', 'status', '--json'], { VSCAN_RUNTIME_DIR: root, XDG_CACHE_HOME: cache });
  assert.equal(status.code, 0, status.stderr);
  const state = JSON.parse(status.stdout) as { runtimeSource: string; library?: string; cudaProblem: string };
  assert.equal(state.runtimeSource, 'bundled');
  assert.equal(state.library, join(ort.binDir, 'libonnxruntime.so.1'));
  assert.match(state.cudaProblem, /^the installed CUDA runtime is unusable: .+-cuda would not load \(.+onnxruntime_binding\.node: .+\); reinstall it \(vscan runtime install cuda --force\)$/);
});

test('--ep cuda where CUDA cannot load exits 2 with one line naming what is missing', async () => {
  const cache = await freshRoot('xdg-cuda');
  const { dir, tiny } = await tempTinyCheckpoint('vscan-runtime-cuda-', 3);
  try {
    const result = await cli(['model', 'check', tiny, '--ep', 'cuda'], { VSCAN_RUNTIME_DIR: await freshRoot('none'), XDG_CACHE_HOME: cache });
    if (result.code === 0) return; // a machine where CUDA loads: nothing to report
    assert.equal(result.code, 2);
    const lines = result.stderr.trim().split('\n').filter((l) => l.startsWith('vscan:') || l.startsWith('    at '));
    assert.deepEqual(lines.length, 1, result.stderr);
    assert.match(lines[0], /^vscan: CUDA execution provider unavailable: ONNX Runtime's CUDA provider libraries are not installed \(run `vscan runtime install cuda`/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('vscan runtime install cuda --dir elsewhere says how the engine will find it', async () => {
  const root = await freshRoot('cli-dir');
  reset();
  const result = await cli(['runtime', 'install', 'cuda', '--dir', root, '--feed', feed.index], { XDG_CACHE_HOME: await freshRoot('xdg-dir') });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^installed: ${root}/onnxruntime-`));
  assert.match(result.stderr, /^\d+% looking up Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux/m);
  assert.match(result.stderr, /^100% CUDA provider libraries installed/m);
  assert.ok(result.stderr.includes(`set VSCAN_RUNTIME_DIR=${root} for it to use this one`), result.stderr);
});

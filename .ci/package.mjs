// One .vsix per platform VS Code supports (npm run package):
//   node .ci/package.mjs                      every target into the repository root
//   node .ci/package.mjs --target linux-x64   one target (repeatable)
//   node .ci/package.mjs --out DIR            somewhere else (the package test uses a temp folder)
//
// Lives in .ci/ because it is release tooling, not part of the extension or its tests, and
// the top level is fixed. Each target is staged in a temp folder holding only what ships
// for it: the production bundles (built once), and that platform's node-av addon (FFmpeg's
// libraries, for the media worker) and ONNX Runtime binaries. npm installs only the host's
// addon, so the others are fetched from
// the npm registry with `npm pack` at the versions (and integrity) pinned in
// package-lock.json. `vsce package --target` then packs the stage; vsce finds the staged
// node_modules through `npm list`, so the staged package.json declares exactly the shipped
// packages.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');

/**
 * What each target ships. `av`: the platform's node-av native package (FFmpeg 8 libraries,
 * one N-API addon) that dist/media.js loads — probing and decoding; node-av's JavaScript is
 * bundled into dist/media.js, so only this package ships (Windows: the MSVC build, which is
 * what VS Code's Node is); no ffmpeg or ffprobe binary ships. onnxruntime-node 1.30 publishes
 * no darwin/x64 binaries (docs/engine.md): darwin-x64 ships the language features and the
 * media worker, no engine.
 * macOS needs only libonnxruntime.1.dylib (the binding's @rpath dependency; the
 * libonnxruntime.1.30.0.dylib beside it is an identical copy). `dawn`: the folder of Dawn's Node
 * binding (the `webgpu` package) for targets whose ONNX Runtime has the WebGPU provider — the
 * engine asks it which adapter that provider gets (linux-arm64's ONNX Runtime has no WebGPU).
 */
export const TARGETS = {
  'linux-x64': { ort: ['libonnxruntime.so.1', 'onnxruntime_binding.node'], dawn: 'linux-x64', av: '@seydx/node-av-linux-x64' },
  'linux-arm64': { ort: ['libonnxruntime.so.1', 'onnxruntime_binding.node'], av: '@seydx/node-av-linux-arm64' },
  'win32-x64': { ort: ['onnxruntime.dll', 'onnxruntime_binding.node', 'DirectML.dll', 'dxcompiler.dll', 'dxil.dll'], dawn: 'win32-x64', av: '@seydx/node-av-win32-x64-msvc' },
  'darwin-x64': { ort: [], av: '@seydx/node-av-darwin-x64' },
  'darwin-arm64': { ort: ['libonnxruntime.1.dylib', 'onnxruntime_binding.node'], dawn: 'darwin-universal', av: '@seydx/node-av-darwin-arm64' },
};

/** The .vsix file name for a target (the e2e suite installs video-scan-linux-x64.vsix). */
export const vsixName = (target) => `video-scan-${target}.vsix`;

const run = (command, args, options = {}) => execFileSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Fetches a package tarball from the registry, checks its integrity, unpacks it into `dest`. */
function fetchPackage(spec, integrity, work, dest) {
  const packed = JSON.parse(run(npm, ['pack', spec, '--json', '--pack-destination', work, '--loglevel=error']))[0];
  if (packed.integrity !== integrity) throw new Error(`${spec}: integrity ${packed.integrity} is not the pinned ${integrity}`);
  mkdirSync(dest, { recursive: true });
  run('tar', ['-xzf', join(work, packed.filename), '-C', dest, '--strip-components=1']);
}

/** The version and integrity package-lock.json pins for a package (a platform's node-av addon). */
function lockedPackage(name) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry?.version || !entry.integrity) throw new Error(`package-lock.json pins no ${name}`);
  return entry;
}

const copy = (from, to) => cpSync(join(modules, from), join(to, 'node_modules', from), { recursive: true });

function stageTarget(target, work) {
  const [platform, arch] = target.split('-');
  const spec = TARGETS[target];
  const stage = join(work, `stage-${target}`);
  mkdirSync(stage);
  for (const file of ['README.md', 'LICENSE', 'NOTICE', 'docs/vscan-format.md', '.vscodeignore']) cpSync(join(root, file), join(stage, file));
  cpSync(join(root, 'syntaxes'), join(stage, 'syntaxes'), { recursive: true });
  // The walkthrough's pages and images.
  cpSync(join(root, 'client', 'media'), join(stage, 'client', 'media'), { recursive: true });
  mkdirSync(join(stage, 'dist'));
  for (const file of readdirSync(join(root, 'dist')).filter((f) => f.endsWith('.js'))) cpSync(join(root, 'dist', file), join(stage, 'dist', file));

  // The media worker's FFmpeg: this platform's node-av addon package, from node_modules when
  // npm installed it for this host, else from the registry at the version package-lock.json pins.
  const avDir = join(stage, 'node_modules', spec.av);
  if (existsSync(join(modules, spec.av, 'package.json'))) copy(spec.av, stage);
  else {
    const locked = lockedPackage(spec.av);
    fetchPackage(`${spec.av}@${locked.version}`, locked.integrity, work, avDir);
  }

  // ONNX Runtime: the package's JavaScript, and this platform's binaries when it has any.
  const ortDir = join(stage, 'node_modules', 'onnxruntime-node');
  for (const part of ['dist', 'LICENSE']) if (existsSync(join(modules, 'onnxruntime-node', part))) cpSync(join(modules, 'onnxruntime-node', part), join(ortDir, part), { recursive: true });
  // Its dependencies serve only its install script (CUDA download at npm install), which is
  // not shipped: the staged manifest drops them so `npm list` sees a complete tree.
  const ortManifest = JSON.parse(readFileSync(join(modules, 'onnxruntime-node', 'package.json'), 'utf8'));
  ortManifest.dependencies = { 'onnxruntime-common': ortManifest.dependencies['onnxruntime-common'] };
  delete ortManifest.scripts;
  writeFileSync(join(ortDir, 'package.json'), JSON.stringify(ortManifest, null, 2));
  for (const file of spec.ort) cpSync(join(modules, 'onnxruntime-node', 'bin', 'napi-v6', platform, arch, file), join(ortDir, 'bin', 'napi-v6', platform, arch, file));
  copy('onnxruntime-common', stage);

  // Dawn's Node binding: its loader and this platform's dawn.node only (its dependencies
  // serve its build and install scripts, which are not shipped).
  if (spec.dawn) {
    const dawnDir = join(stage, 'node_modules', 'webgpu');
    for (const file of ['index.js', 'LICENSE.md']) cpSync(join(modules, 'webgpu', file), join(dawnDir, file));
    cpSync(join(modules, 'webgpu', 'dist', spec.dawn), join(dawnDir, 'dist', spec.dawn), { recursive: true });
    const dawnManifest = JSON.parse(readFileSync(join(modules, 'webgpu', 'package.json'), 'utf8'));
    delete dawnManifest.dependencies;
    delete dawnManifest.scripts;
    writeFileSync(join(dawnDir, 'package.json'), JSON.stringify(dawnManifest, null, 2));
  }

  // The manifest: no build scripts (the bundles are built), only the shipped dependencies.
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  delete manifest.scripts;
  delete manifest.devDependencies;
  const version = (name) => JSON.parse(readFileSync(join(stage, 'node_modules', name, 'package.json'), 'utf8')).version;
  const shipped = [spec.av, 'onnxruntime-node', ...(spec.dawn ? ['webgpu'] : [])];
  manifest.dependencies = Object.fromEntries(shipped.map((name) => [name, version(name)]));
  writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2));
  return stage;
}

function main() {
  const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, out: { type: 'string' } } });
  const targets = values.target ?? Object.keys(TARGETS);
  for (const target of targets) if (!TARGETS[target]) throw new Error(`unknown target ${target} (one of ${Object.keys(TARGETS).join(', ')})`);
  const out = resolve(values.out ?? root);
  mkdirSync(out, { recursive: true });
  run(process.execPath, ['esbuild.mjs', '--production'], { stdio: 'inherit' });
  const vsce = join(modules, '@vscode', 'vsce', 'vsce');
  const work = mkdtempSync(join(tmpdir(), 'vscan-package-'));
  try {
    for (const target of targets) {
      const stage = stageTarget(target, work);
      run(process.execPath, [vsce, 'package', '--target', target, '--allow-missing-repository', '--baseContentUrl', 'https://video-scan.invalid/',
        '--baseImagesUrl', 'https://video-scan.invalid/', '-o', join(out, vsixName(target))], { cwd: stage, stdio: 'inherit' });
      rmSync(stage, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

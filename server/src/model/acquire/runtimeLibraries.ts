/**
 * Installing ONNX Runtime's CUDA provider libraries on demand (`vscan runtime install cuda`,
 * *video-scan: Install GPU Support (CUDA)*), never at `npm ci`.
 *
 * The libraries come from the NuGet package onnxruntime-node's install script uses for the
 * bundled version (Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 on linux-x64), verified against
 * the SHA-512 the feed publishes, and land in a folder beside copies of the bundled binding
 * and libonnxruntime (runtimeLayout.ts says why). The folder is staged under a temporary
 * name and renamed into place when complete: a failed or cancelled install leaves nothing.
 */
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import * as yauzl from 'yauzl';
import { downloadNugetPackage, FeedError, locateNugetPackage, NUGET_ORG } from './nugetFeed';
import {
  bundledOnnxRuntime, currentTarget, defaultRuntimeRoot, installFolderName, MANIFEST_FILE, readInstallation, type RuntimeInstallManifest,
} from './runtimeLayout';

export class RuntimeInstallError extends Error {
  override name = 'RuntimeInstallError';
}

/** Where each platform's CUDA provider libraries come from (onnxruntime-node's script/install-metadata.js). */
const CUDA_PACKAGES: Record<string, { id: string; files: Record<string, string> }> = {
  'linux-x64': {
    id: 'Microsoft.ML.OnnxRuntime.Gpu.Linux',
    // The TensorRT provider the install script also copies is left out: we never ask for it.
    files: {
      'libonnxruntime_providers_shared.so': 'runtimes/linux-x64/native/libonnxruntime_providers_shared.so',
      'libonnxruntime_providers_cuda.so': 'runtimes/linux-x64/native/libonnxruntime_providers_cuda.so',
    },
  },
};

/** Why a platform cannot get CUDA, in one line (evidence in docs/engine.md, "Execution providers"). */
export function cudaUnsupportedReason(target = currentTarget()): string | undefined {
  if (CUDA_PACKAGES[target]) return undefined;
  if (target.startsWith('win32-')) {
    return `CUDA is not available on ${target}: onnxruntime-node's Windows binding is built without the CUDA execution provider (it has DirectML and WebGPU), so no provider library can add it`;
  }
  return `CUDA is not available on ${target}: onnxruntime-node has the CUDA execution provider on linux-x64 only`;
}

/** Where the install is, for progress reports. */
export interface InstallProgress {
  stage: 'resolve' | 'download' | 'extract' | 'done';
  /** 0…1 over the whole install. */
  fraction: number;
  message: string;
}

export interface InstallOptions {
  /** Root folder for installations (default: `VSCAN_RUNTIME_DIR`, else ~/.cache/video-scan/runtime). */
  root?: string;
  /** NuGet v3 service index (default: `VSCAN_NUGET_FEED`, else nuget.org). */
  feed?: string;
  /** Install again even when a complete installation is present. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: InstallProgress) => void;
}

export interface InstallResult {
  folder: string;
  /** True when a complete installation was already there (nothing downloaded). */
  alreadyInstalled: boolean;
  downloadedBytes: number;
  manifest: RuntimeInstallManifest;
}

/** The root the installer writes to: the option, `VSCAN_RUNTIME_DIR`, or the CLI's default. */
export function installRoot(root?: string): string {
  return root || process.env.VSCAN_RUNTIME_DIR || defaultRuntimeRoot();
}

/** Copies the zip entries named in `wanted` (file name → entry name) into `dir`; throws naming any missing. */
async function extractEntries(nupkg: string, wanted: Record<string, string>, dir: string, signal?: AbortSignal): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(nupkg, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false });
  } catch (error) {
    throw new RuntimeInstallError(`${nupkg}: not a readable .nupkg (${error instanceof Error ? error.message : String(error)})`);
  }
  const byEntry = new Map(Object.entries(wanted).map(([file, entry]) => [entry, file]));
  const found = new Set<string>();
  try {
    // Bounded by the archive's central directory (entryCount); stops once everything is found.
    for await (const entry of zip.eachEntry()) {
      if (signal?.aborted) throw Object.assign(new Error('cancelled'), { cancelled: true });
      const file = byEntry.get(entry.fileName);
      if (!file) continue;
      if (entry.uncompressedSize > 4 * 2 ** 30) throw new RuntimeInstallError(`${nupkg}: ${entry.fileName} claims ${entry.uncompressedSize} bytes`);
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(join(dir, file)), { signal });
      found.add(entry.fileName);
      if (found.size === byEntry.size) break;
    }
  } finally {
    zip.close();
  }
  const missing = [...byEntry.keys()].filter((e) => !found.has(e));
  if (missing.length) throw new RuntimeInstallError(`${nupkg}: the package has no ${missing.join(', ')}`);
}

/**
 * Installs the CUDA provider libraries for the bundled ONNX Runtime into
 * `<root>/onnxruntime-<version>-<target>-cuda/`. Returns at once when a complete
 * installation is there (unless `force`). Errors are one line naming what failed.
 */
export async function installCudaProviders(options: InstallOptions = {}): Promise<InstallResult> {
  const target = currentTarget();
  const unsupported = cudaUnsupportedReason(target);
  if (unsupported) throw new RuntimeInstallError(unsupported);
  const spec = CUDA_PACKAGES[target];
  const ort = bundledOnnxRuntime();
  const root = installRoot(options.root);
  const folder = join(root, installFolderName(ort.version, 'cuda'));
  const report = (stage: InstallProgress['stage'], fraction: number, message: string) => options.onProgress?.({ stage, fraction, message });

  const existing = readInstallation(folder, ort.version);
  if (existing && !options.force) {
    report('done', 1, `CUDA provider libraries already installed in ${folder}`);
    return { folder, alreadyInstalled: true, downloadedBytes: 0, manifest: existing };
  }

  const feed = options.feed || process.env.VSCAN_NUGET_FEED || NUGET_ORG;
  await mkdir(root, { recursive: true });
  const staging = await mkdtemp(join(root, '.install-'));
  try {
    report('resolve', 0, `looking up ${spec.id} ${ort.version} in ${feed}`);
    const location = await locateNugetPackage(feed, spec.id, ort.version, options.signal);
    const nupkg = join(staging, `${spec.id.toLowerCase()}.${ort.version}.nupkg`);
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    const downloadedBytes = await downloadNugetPackage(location, nupkg, {
      signal: options.signal,
      onProgress: (received, total) => report('download', 0.02 + 0.88 * (total ? received / total : 0), `downloading ${spec.id} ${ort.version}: ${mib(received)}${total ? ` of ${mib(total)}` : ''}`),
    });

    report('extract', 0.9, 'extracting the provider libraries');
    const files = join(staging, 'files');
    await mkdir(files);
    await extractEntries(nupkg, spec.files, files, options.signal);
    // The bundled binding and its libonnxruntime, so ONNX Runtime finds the providers beside itself.
    for (const name of await readdir(ort.binDir)) {
      if (!name.startsWith('libonnxruntime_providers_')) await copyFile(join(ort.binDir, name), join(files, name));
    }
    const sizes: Record<string, number> = {};
    for (const name of await readdir(files)) sizes[name] = (await stat(join(files, name))).size;
    const manifest: RuntimeInstallManifest = {
      onnxruntimeVersion: ort.version,
      target,
      providers: ['cuda'],
      source: { feed, package: spec.id, version: ort.version, sha512: location.sha512 },
      files: sizes,
      installedAt: new Date().toISOString(),
    };
    await writeFile(join(files, MANIFEST_FILE), JSON.stringify(manifest, null, 2));

    // Into place: a previous (damaged or forced) folder is moved aside first, then removed.
    const previous = join(staging, 'previous');
    await rename(folder, previous).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(files, folder);
    report('done', 1, `CUDA provider libraries installed in ${folder}`);
    return { folder, alreadyInstalled: false, downloadedBytes, manifest };
  } catch (error) {
    if ((error as { cancelled?: boolean }).cancelled || options.signal?.aborted) throw Object.assign(new RuntimeInstallError('cancelled; nothing installed'), { cancelled: true });
    if (error instanceof FeedError || error instanceof RuntimeInstallError) throw error;
    throw new RuntimeInstallError(`installing CUDA provider libraries into ${folder} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

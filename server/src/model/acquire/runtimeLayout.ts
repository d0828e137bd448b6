/**
 * Where installed runtime libraries live, and how to tell a complete installation from a
 * partial one. Shared by the installer (acquire/) and the engine that loads them (runtime/).
 *
 * ONNX Runtime loads execution-provider libraries from the folder of its own shared library,
 * so an installation is a folder holding a copy of onnxruntime-node's binding and
 * libonnxruntime beside the provider libraries:
 *
 *   <root>/onnxruntime-1.30.0-linux-x64-cuda/
 *     onnxruntime_binding.node  libonnxruntime.so.1          (copies of the bundled ones)
 *     libonnxruntime_providers_shared.so  libonnxruntime_providers_cuda.so  (from NuGet)
 *     install.json                                            (written last: the folder is complete)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The manifest written last into an installed folder; its presence marks the folder complete. */
export interface RuntimeInstallManifest {
  /** onnxruntime-node version the copied binding belongs to (a binding only works with its own library). */
  onnxruntimeVersion: string;
  /** `process.platform-process.arch` the folder is for. */
  target: string;
  /** What was added beside ONNX Runtime, e.g. `cuda`. */
  providers: string[];
  /** The NuGet package the provider libraries came from, and its verified SHA-512 (base64, as the feed publishes it). */
  source: { feed: string; package: string; version: string; sha512: string };
  /** Every file of the folder with its size, so a truncated or deleted file is noticed. */
  files: Record<string, number>;
  installedAt: string;
}

export const MANIFEST_FILE = 'install.json';

/** The folder the CLI installs into unless `VSCAN_RUNTIME_DIR` says otherwise. */
export function defaultRuntimeRoot(): string {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'video-scan', 'runtime');
}

/**
 * The roots searched for an installation, first match wins: `VSCAN_RUNTIME_DIR` (VS Code sets
 * it to the extension's global storage for the engine it starts) and the CLI's default, so
 * a `vscan runtime install cuda` also serves the editor.
 */
export function runtimeRoots(): string[] {
  const roots = [process.env.VSCAN_RUNTIME_DIR, defaultRuntimeRoot()].filter((r): r is string => !!r);
  return [...new Set(roots)];
}

/** The onnxruntime-node package in use: its folder, version and this platform's binary folder. */
export function bundledOnnxRuntime(): { packageDir: string; version: string; binDir: string } {
  const packageJson = require.resolve('onnxruntime-node/package.json');
  const packageDir = dirname(packageJson);
  const version = String(JSON.parse(readFileSync(packageJson, 'utf8')).version);
  return { packageDir, version, binDir: join(packageDir, 'bin', 'napi-v6', process.platform, process.arch) };
}

/** The current platform as VS Code and npm name it (`linux-x64`). */
export function currentTarget(): string {
  return `${process.platform}-${process.arch}`;
}

/** The folder name of an installation of `providers` for an ONNX Runtime version on this platform. */
export function installFolderName(version: string, provider: string, target = currentTarget()): string {
  return `onnxruntime-${version}-${target}-${provider}`;
}

/**
 * Reads a folder's manifest and checks it against the files present: undefined when the
 * folder is missing, incomplete (no manifest: an interrupted install), or damaged (a file
 * missing or of another size), or when it belongs to another ONNX Runtime version.
 */
export function readInstallation(folder: string, expectedVersion: string): RuntimeInstallManifest | undefined {
  let manifest: RuntimeInstallManifest;
  try {
    manifest = JSON.parse(readFileSync(join(folder, MANIFEST_FILE), 'utf8')) as RuntimeInstallManifest;
  } catch {
    return undefined;
  }
  if (!manifest || typeof manifest !== 'object' || manifest.onnxruntimeVersion !== expectedVersion || manifest.target !== currentTarget()) return undefined;
  if (!manifest.files || typeof manifest.files !== 'object') return undefined;
  for (const [name, size] of Object.entries(manifest.files)) {
    const path = join(folder, name);
    if (name.includes('/') || name.includes('\\') || name === '..' || name === '.' || !existsSync(path) || statSync(path).size !== size) return undefined;
  }
  return manifest;
}

/** The first complete installation of `provider` for the bundled ONNX Runtime, if any. */
export function findInstallation(provider: string): { folder: string; manifest: RuntimeInstallManifest } | undefined {
  let version: string;
  try {
    version = bundledOnnxRuntime().version;
  } catch {
    return undefined;
  }
  for (const root of runtimeRoots()) {
    const folder = join(root, installFolderName(version, provider));
    const manifest = readInstallation(folder, version);
    if (manifest) return { folder, manifest };
  }
  return undefined;
}

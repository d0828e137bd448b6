/**
 * Which ONNX Runtime the engine loads, and whether CUDA can load in it.
 *
 * ONNX Runtime looks for provider libraries (libonnxruntime_providers_cuda.so …) in the
 * folder of its own libonnxruntime, and onnxruntime-node's binding finds libonnxruntime
 * beside itself (RUNPATH $ORIGIN). So when the CUDA providers are installed
 * (acquire/runtimeLibraries.ts), the engine loads the binding copy in that folder: its
 * module object goes into Node's require cache under the path onnxruntime-node's
 * dist/binding.js requires, so the package's JavaScript is used unchanged. This must run
 * before onnxruntime-node is first required (preferInstalledRuntime.ts, imported first by
 * the engine process and the CLI).
 */
import { existsSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { constants } from 'node:os';
import { join } from 'node:path';
import { cudaUnsupportedReason } from '../acquire/runtimeLibraries';
import { bundledOnnxRuntime, findInstallation } from '../acquire/runtimeLayout';

const BINDING = 'onnxruntime_binding.node';

/** The folder whose libonnxruntime this process uses, and where it came from. */
export interface ActiveRuntime {
  folder: string;
  source: 'installed' | 'bundled';
  /** Why an installed folder was passed over (its binding would not load), in one line. */
  installedProblem?: string;
}

/** An execution provider asked for by name (`--ep cuda`) that cannot load here; the message is one line. */

let active: ActiveRuntime | undefined;

/**
 * Points onnxruntime-node at an installed runtime folder when there is a complete one for
 * the bundled version; otherwise leaves the bundled binary. Idempotent. Returns what is used.
 */
export function preferInstalledRuntime(): ActiveRuntime | undefined {
  if (active) return active;
  let binDir: string;
  try {
    binDir = bundledOnnxRuntime().binDir;
  } catch {
    return undefined;
  }
  const bundledBinding = join(binDir, BINDING);
  const installed = findInstallation('cuda');
  // The bundled binding must exist: Node resolves binding.js's require to its path before
  // looking in the cache.
  const cache = createRequire(__filename).cache;
  // Already required (onnxruntime-node loaded before this ran): the bundled one stays.
  if (installed && existsSync(bundledBinding) && existsSync(join(installed.folder, BINDING)) && !cache[bundledBinding]) {
    const binding = new Module(bundledBinding);
    binding.filename = bundledBinding;
    try {
      process.dlopen(binding, join(installed.folder, BINDING), constants.dlopen.RTLD_LAZY);
      binding.loaded = true;
      cache[bundledBinding] = binding;
      active = { folder: installed.folder, source: 'installed' };
    } catch (error) {
      // A damaged copy must not take the engine down: the bundled CPU runtime still works.
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      active = { folder: binDir, source: 'bundled', installedProblem: `${installed.folder} would not load (${reason})` };
    }
  } else {
    active = { folder: binDir, source: 'bundled' };
  }
  return active;
}

/**
 * Why this platform has no ONNX Runtime at all (the package holds no binding for it, as
 * onnxruntime-node 1.30 on darwin-x64), in one line; undefined when the binding is there.
 */
export function runtimeUnavailableReason(binDir: string, target = `${process.platform}-${process.arch}`): string | undefined {
  if (existsSync(join(binDir, BINDING))) return undefined;
  return `the model engine is not available on ${target}: onnxruntime-node publishes no ONNX Runtime binaries for it (docs/engine.md, "Platforms")`;
}

/** What the engine's CUDA provider needs from the system, in the order worth reporting. */
const CUDA_SYSTEM_LIBRARIES: { library: string; what: string }[] = [
  { library: 'libcuda.so.1', what: 'the NVIDIA driver' },
  { library: 'libcudart.so.12', what: 'the CUDA 12 runtime' },
  { library: 'libcublasLt.so.12', what: 'CUDA 12 cuBLASLt' },
  { library: 'libcublas.so.12', what: 'CUDA 12 cuBLAS' },
  { library: 'libcurand.so.10', what: 'CUDA 12 cuRAND' },
  { library: 'libcufft.so.11', what: 'CUDA 12 cuFFT' },
  { library: 'libcudnn.so.9', what: 'cuDNN 9' },
];

/** Loads a shared library by name as the dynamic loader would; the loader's message when it cannot. */
export function dlopenProblem(library: string): string | undefined {
  try {
    process.dlopen({ exports: {} }, library, constants.dlopen.RTLD_LAZY);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Loaded fine; it is just not a Node addon (Node unloads it again).
    if (message.startsWith('Module did not self-register')) return undefined;
    return message.split('\n')[0];
  }
}

/**
 * Why CUDA cannot load in this process, in one line naming the library at fault; undefined
 * when everything it needs loads (ONNX Runtime may still refuse, e.g. no GPU: its own error
 * then says why). Checked before a CUDA session is created.
 */
export function cudaProblem(): string | undefined {
  const unsupported = cudaUnsupportedReason();
  if (unsupported) return unsupported;
  const runtime = preferInstalledRuntime() ?? active;
  if (runtime?.installedProblem) return `the installed CUDA runtime is unusable: ${runtime.installedProblem}; reinstall it (vscan runtime install cuda --force)`;
  if (!runtime || !existsSync(join(runtime.folder, 'libonnxruntime_providers_cuda.so'))) {
    return "ONNX Runtime's CUDA provider libraries are not installed (run `vscan runtime install cuda`, or *video-scan: Install GPU Support (CUDA)* in VS Code)";
  }
  for (const { library, what } of CUDA_SYSTEM_LIBRARIES) {
    const problem = dlopenProblem(library);
    if (problem) return `${what} (${library}) cannot be loaded: ${problem}`;
  }
  return undefined;
}

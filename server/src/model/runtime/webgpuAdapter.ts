/**
 * Which WebGPU adapter ONNX Runtime's WebGPU execution provider would get, asked of Dawn
 * itself. onnxruntime-node exposes no adapter information (not in its API, not in its
 * verbose log), so we ask Dawn the same question ONNX Runtime asks it — the default
 * backend of the platform, power preference high-performance — through Dawn's own Node
 * binding (the `webgpu` package). Both find adapters through the same system drivers
 * (on Linux the Vulkan loader and its ICD files), so they see the same adapter.
 */

/** A WebGPU adapter, as Dawn describes it. */
export interface WebGpuAdapter {
  vendor: string;
  architecture: string;
  /** Dawn's description of the driver, e.g. "SwiftShader driver 5.0.0". */
  description: string;
  /** The native API under Dawn: vulkan, d3d12 or metal. */
  backend: string;
  /** A CPU implementation (SwiftShader, llvmpipe, WARP): used only when asked for by name. */
  software: boolean;
  /** Whether shaders may compute in float16 (`shader-f16`): the condition for fp16 graphs. */
  shaderF16: boolean;
}

/** Either the adapter, or why there is none (one line). */
export type AdapterProbe = { adapter: WebGpuAdapter } | { adapter?: undefined; reason: string };

/** Dawn's backend for this platform: the one ONNX Runtime's Dawn chooses by default. */
export function platformBackend(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'd3d12' : platform === 'darwin' ? 'metal' : 'vulkan';
}

// CPU implementations that do not always say so through isFallbackAdapter.
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/** The adapter in a few words, for the status bar and fallback reasons. */
export function describeAdapter(a: WebGpuAdapter): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || a.description || 'unnamed adapter';
  return `${name} (${a.backend}${a.software ? ', software' : ''}${a.shaderF16 ? ', shader-f16' : ''})`;
}

let cached: Promise<AdapterProbe> | undefined;

/**
 * Asks Dawn for the adapter (once per process: the drivers do not change under us, and
 * each Dawn instance costs a driver initialisation).
 */
export function probeWebGpuAdapter(): Promise<AdapterProbe> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<AdapterProbe> {
  const backend = platformBackend();
  let gpu: { requestAdapter(options?: { powerPreference?: string }): Promise<DawnAdapter | null> };
  try {
    // An ES module: loaded on demand, only when WebGPU is considered.
    const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): typeof gpu };
    gpu = dawn.create([`backend=${backend}`]);
  } catch (error) {
    return { reason: `Dawn could not start: ${firstLine(error)}` };
  }
  let adapter: DawnAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { reason: `Dawn's adapter request failed: ${firstLine(error)}` };
  }
  if (!adapter) return { reason: `Dawn found no ${backend} adapter${backend === 'vulkan' ? ': no Vulkan driver (the loader libvulkan1 and a GPU driver) is installed' : ''}` };
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  return {
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      backend,
      software: info.isFallbackAdapter === true || SOFTWARE_NAMES.test(text),
      shaderF16: adapter.features.has('shader-f16'),
    },
  };
}

interface DawnAdapter {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  features: { has(name: string): boolean };
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0].slice(0, 200);
}

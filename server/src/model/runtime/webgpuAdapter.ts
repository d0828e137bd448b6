/**
 * Which WebGPU adapter ONNX Runtime's WebGPU execution provider would get, asked of Dawn
 * itself. onnxruntime-node exposes no adapter information (not in its API, not in its
 * verbose log), so we ask Dawn the same question ONNX Runtime asks it — the default
 * backend of the platform, power preference high-performance — through Dawn's own Node
 * binding (the `webgpu` package). Both find adapters through the same system drivers
 * (on Linux the Vulkan loader and its ICD files), so they see the same adapter. Dawn is
 * asked in a child process of its own (below).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { firstLine } from './firstLine';

const execFileAsync = promisify(execFile);

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

/** How long Dawn may take to answer (a driver's first start can be slow; a broken one may never answer). */
const PROBE_TIMEOUT_MS = 30_000;

/**
 * What runs in the probe's own process: Dawn is asked, the answer printed as one JSON line.
 * Dawn prints driver warnings on stderr (a machine without Vulkan gets several), and a
 * broken driver can crash or hang it: in a child process none of that reaches the engine,
 * and a timeout bounds the wait.
 */
const PROBE_SCRIPT = `
const [modulePath, backend] = process.argv.slice(1);
const { pathToFileURL } = await import('node:url');
const { create } = await import(pathToFileURL(modulePath).href);
const adapter = await create(['backend=' + backend]).requestAdapter({ powerPreference: 'high-performance' });
const info = adapter && adapter.info;
process.stdout.write(JSON.stringify(adapter ? { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallbackAdapter: info.isFallbackAdapter === true, shaderF16: adapter.features.has('shader-f16') } : null) + '\\n');
process.exit(0);
`;

let cached: Promise<AdapterProbe> | undefined;

/**
 * Asks Dawn for the adapter, once per process (the drivers do not change under us, and
 * each Dawn instance costs a driver initialisation).
 */
export function probeWebGpuAdapter(): Promise<AdapterProbe> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<AdapterProbe> {
  const backend = platformBackend();
  let modulePath: string;
  try {
    modulePath = require.resolve('webgpu');
  } catch (error) {
    return { reason: `Dawn's Node binding (the webgpu package) is not installed: ${firstLine(error)}` };
  }
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', PROBE_SCRIPT, modulePath, backend], { timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20, env: process.env }));
  } catch (error) {
    const failed = error as { killed?: boolean; stderr?: string; message?: string };
    if (failed.killed) return { reason: `Dawn did not answer within ${PROBE_TIMEOUT_MS / 1000} s` };
    const lines = String(failed.stderr ?? '').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('at '));
    return { reason: `Dawn could not start: ${(lines.pop() ?? firstLine(error)).slice(0, 200)}` };
  }
  let answer: unknown;
  try {
    answer = JSON.parse(stdout.trim().split('\n').pop() ?? '');
  } catch {
    return { reason: `Dawn's answer was not understood: ${stdout.slice(0, 100)}` };
  }
  if (answer === null) return { reason: `Dawn found no ${backend} adapter${backend === 'vulkan' ? ': no Vulkan driver (the loader libvulkan1 and a GPU driver) is installed' : ''}` };
  const info = answer as Partial<Record<'vendor' | 'architecture' | 'device' | 'description', unknown>> & { isFallbackAdapter?: unknown; shaderF16?: unknown };
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 200) : '');
  const adapter: WebGpuAdapter = {
    vendor: text(info.vendor),
    architecture: text(info.architecture),
    description: text(info.description),
    backend,
    software: info.isFallbackAdapter === true || SOFTWARE_NAMES.test(`${text(info.vendor)} ${text(info.architecture)} ${text(info.device)} ${text(info.description)}`),
    shaderF16: info.shaderF16 === true,
  };
  return { adapter };
}

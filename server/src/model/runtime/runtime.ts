/**
 * ONNX Runtime sessions for a checkpoint. The generated graph references the safetensors
 * files as external data; ONNX Runtime only accepts external files inside the model's own
 * folder (symbolic links are resolved and refused), so the graph is written to a cache
 * folder beside hard links to the weight files — no copy of the weights. The links go to
 * the real files: a Hugging Face cache snapshot is a folder of symlinks into `blobs/`, and
 * a hard link to a relative symlink would dangle in another folder. Where a hard link
 * is impossible (another file system), the weight files are handed to ONNX Runtime from
 * memory instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Checkpoint } from '../checkpoint/checkpoint';
import { defaultGraphCacheDir, writeGraphCacheSource } from './graphCache';
import { writeFileAtomic } from '../../workspace/atomicWrite';
import { encodeModel, type Graph } from '../graph/onnxGraph';
import type { Precision } from '../graph/textDecoder';
import { describeScheme, EXACT_ACCURACY_LEVEL, type Int8Kernel, linearKernel, QuantizedWeights, type WeightsChoice, type WeightsPrecision } from '../graph/quantizedWeights';
import { ensureQuantizedFile, quantizedFileName, quantizeToBuffer, type QuantizeProgress } from './quantizedFile';
import { cudaProblem } from './providerLibraries';
import { type ExecutionProvider, type ExecutionProviderChoice, type GraphTarget, graphTargetFor, type KvCacheChoice, type PrecisionChoice, precisionFor, PROVIDER_NAMES, providerSessionOptions, ProviderUnavailableError, weightsFor } from './providers';
import { type AdapterProbe, describeAdapter, probeWebGpuAdapter, type WebGpuAdapter } from './webgpuAdapter';
import { firstLine } from './firstLine';
import { integerGemmIsExact } from './integerGemmProbe';

export { type ExecutionProvider, type ExecutionProviderChoice, type GraphTarget, KV_CACHE_CHOICES, type KvCacheChoice, type PrecisionChoice, precisionFor, ProviderUnavailableError, weightsFor } from './providers';
export type { WeightsChoice, WeightsPrecision } from '../graph/quantizedWeights';

export interface SessionReport {
  executionProvider: ExecutionProvider;
  /** The WebGPU adapter the session runs on (WebGPU only). */
  adapter?: WebGpuAdapter;
  /** The graph's arithmetic type. */
  precision: Precision;
  /** What the linear layers' weights are: the checkpoint's bf16, or quantized (MatMulNBits, or on the CPU int8's integer GEMM: `weightsScheme`). */
  weights: WeightsPrecision;
  /** The weights' scheme in words (`int4-b32-asym-acc4`; `bf16`). */
  weightsScheme: string;
  /** Milliseconds spent quantizing on this load (0: read from the graph cache, or not quantized). */
  quantizeMs: number;
  /** How the graph was built for its provider. */
  target: GraphTarget;
  /** Where the outputs named in `deviceOutputs` stay between runs. */
  deviceOutputs: 'host' | 'device';
  /**
   * Why `auto` did not take the first provider, and why int8 did not take the CPU's integer
   * GEMM, in one line (each fallback with its reason).
   */
  fallbackReason?: string;
  /** Threads per operator as asked, or 'default'. */
  threads: number | 'default';
  weightsBytes: number;
  weightFiles: 'hard-linked' | 'in-memory';
  modelFile?: string;
  loadMs: number;
}

/** Where loading is: reading headers, building the graph, linking the weights, starting the session. */
export type LoadStage = 'checkpoint' | 'graph' | 'weights' | 'quantize' | 'session';

export interface RuntimeOptions {
  executionProvider?: ExecutionProviderChoice;
  /**
   * `auto`: fp16 on CUDA and on WebGPU adapters with shader-f16, fp32 otherwise (CPU kernels
   * are float32; fp16 there only emulates).
   */
  precision?: PrecisionChoice;
  /**
   * The linear layers' weights, orthogonal to the precision: `bf16` as stored, or `int8` /
   * `int4` quantized once (per checkpoint and scheme) into the graph cache. `auto`: int8 on
   * the CPU for checkpoints of 1 GiB and more, bf16 otherwise (`weightsFor`).
   */
  weights?: WeightsChoice;
  /**
   * Quantized weights computed in float32 on their dequantized values (MatMulNBits'
   * accuracy_level 0; the integer GEMM's weights multiplied out) instead of with int8 activations: slower; for holding the graphs to a
   * reference (tests).
   */
  exactQuantizedArithmetic?: boolean;
  /**
   * The kernel of int8 weights, instead of the provider's (`graphTargetFor`): the bench
   * compares MatMulNBits with the CPU's integer GEMM this way.
   */
  int8Kernel?: Int8Kernel;
  /** Whether the CPU's integer GEMM sums exactly (default: ask it, integerGemmProbe.ts); tests substitute what they need. */
  probeIntegerGemm?: () => Promise<boolean>;
  /** The text decoder's K/V cache: `auto` (8 bits on the CPU, floats elsewhere), `float` or `int8` (CPU only); `graphTargetFor`. */
  kvCache?: KvCacheChoice;
  /** Called as loading moves through its stages (the session stage is the long one: weights are read and converted). */
  onLoadProgress?: (stage: LoadStage, detail: string) => void;
  /** Threads for each operator (ONNX Runtime's default, all physical cores, when unset). */
  intraOpThreads?: number;
  /** Folder for generated graphs (default: the user's cache). */
  cacheDir?: string;
  /**
   * Profile the session's runs into this folder (ONNX Runtime's profiler), so that
   * `readNodePlacement` can say which operators ran on the CPU.
   */
  profileDir?: string;
  /**
   * Outputs to leave in device memory on WebGPU (ONNX Runtime's `gpu-buffer` location): the
   * cache, fed back as the next run's inputs, so that only the logits cross to the host.
   * Elsewhere every output comes to the host.
   */
  deviceOutputs?: string[];
  /** The WebGPU adapter probe (default: ask Dawn); tests substitute what they need. */
  probeAdapter?: () => Promise<AdapterProbe>;
}

// Failures (a missing CUDA library on `auto`) surface as exceptions and our one-line
// reason; ONNX Runtime's own stderr log would only repeat them in red.
ort.env.logLevel = 'fatal';


/** Names under which the weight files appear next to the model (stable per file). */
function linkName(file: string): string {
  return `${createHash('sha1').update(file).digest('hex').slice(0, 12)}-${basename(file)}`;
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([stat(a), stat(b)]);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

export async function createSession(
  checkpoint: Checkpoint,
  build: (location: (file: string) => string, precision: Precision, target: GraphTarget, quantized?: QuantizedWeights) => Graph,
  name: string,
  options: RuntimeOptions = {},
): Promise<{ session: ort.InferenceSession; report: SessionReport }> {
  const started = performance.now();
  const weightsBytes = checkpoint.files.reduce((sum, f) => sum + f.bytes, 0);
  const choice = options.executionProvider ?? 'auto';
  // The weights: hard links beside the model files (ONNX Runtime reads them in place), or,
  // where links are impossible, the files' bytes handed over in memory.
  let weightFiles: SessionReport['weightFiles'] = 'hard-linked';
  const externalData: { path: string; data: Uint8Array }[] = [];
  let quantizeMs = 0;
  const prepare = async (precision: Precision, target: GraphTarget, weights: WeightsPrecision): Promise<{ bytes: Uint8Array; modelFile?: string }> => {
    const accuracyLevel = options.exactQuantizedArithmetic ? EXACT_ACCURACY_LEVEL : undefined;
    const kernel = linearKernel(weights, target.int8);
    options.onLoadProgress?.('graph', `building the ${name} graph (${precision}, ${describeScheme(weights, accuracyLevel, kernel)} weights)`);
    const store = weights === 'bf16' ? undefined : new QuantizedWeights(weights, await quantizedFileName(checkpoint, weights, accuracyLevel, kernel), accuracyLevel, kernel);
    const bytes = encodeModel(build(linkName, precision, target, store));
    const started = performance.now();
    let reported = -1;
    const progress: QuantizeProgress = (done, total) => {
      const percent = Math.floor((100 * done) / total);
      if (percent !== reported) options.onLoadProgress?.('quantize', `quantizing the ${name} weights to ${weights}: ${(reported = percent)}%`);
    };
    options.onLoadProgress?.('weights', `linking ${checkpoint.files.length} weight file(s), ${(weightsBytes / 2 ** 30).toFixed(2)} GiB`);
    // The weight files (and quantized weights) handed to ONNX Runtime from memory.
    const inMemory = async (): Promise<{ bytes: Uint8Array }> => {
      weightFiles = 'in-memory';
      for (const file of checkpoint.files) {
        if (!externalData.some((e) => e.path === linkName(file.path))) externalData.push({ path: linkName(file.path), data: new Uint8Array(await readFile(file.path)) });
      }
      if (store?.entries.length && !externalData.some((e) => e.path === store.fileName)) {
        externalData.push({ path: store.fileName, data: await quantizeToBuffer(store, progress) });
        quantizeMs = performance.now() - started;
      }
      return { bytes };
    };
    if (weightFiles === 'in-memory') return inMemory();
    const key = createHash('sha1').update(checkpoint.dir).update(bytes).digest('hex').slice(0, 16);
    const folder = join(options.cacheDir ?? defaultGraphCacheDir(), `${name}-${key}`);
    const modelFile = join(folder, `${name}.onnx`);
    try {
      await mkdir(folder, { recursive: true });
      for (const file of checkpoint.files) {
        const target = join(folder, linkName(file.path));
        if (!(await sameFile(file.path, target))) {
          // Linked under a temporary name and renamed into place: several processes (shards of
          // one batch) may build the same entry at once, and none may see a link missing.
          const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
          // link() would hard-link a symlink itself (linkat without AT_SYMLINK_FOLLOW).
          await link(await realpath(file.path), temp);
          await rename(temp, target).catch(async (error: unknown) => { await rm(temp, { force: true }); throw error; });
        }
      }
      // Atomically: another process may be loading this very file.
      await writeFileAtomic(modelFile, bytes);
      // What the links are links of, so that `vscan cache list|clean` can find entries whose checkpoint is gone.
      await writeGraphCacheSource(folder, { checkpoint: resolve(checkpoint.dir), links: Object.fromEntries(checkpoint.files.map((f) => [linkName(f.path), resolve(f.path)])) });
    } catch {
      return inMemory();
    }
    // Quantized once per checkpoint and scheme, beside the graph; later loads read the file as
    // it is. Outside the try above: a weight that cannot be quantized fails here, naming it.
    if (store?.entries.length && (await ensureQuantizedFile(store, join(folder, store.fileName), progress))) quantizeMs = performance.now() - started;
    return { bytes, modelFile };
  };
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    // No pre-packed copies of the weights: with pre-packing MLAS keeps packed weights beside
    // the folded ones — measured 4.2 vs 2.4 × the bf16 file, with no measurable speed
    // difference (docs/engine.md, "Memory").
    // Every weight's bf16 → float cast folds into a constant once, at load: ONNX Runtime folds
    // only outputs up to 1 GiB by default, and Qwen3.5-2B's tied embedding widened to float32
    // is 2.03 GB — unfolded it was recast on every run (docs/engine.md, "Memory").
    extra: {
      session: { disable_prepacking: '1' },
      optimization: { constant_folding_max_output_size_in_bytes: String(foldLimitBytes(weightsBytes)) },
    },
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(options.profileDir ? { enableProfiling: true, profileFilePrefix: join(options.profileDir, name) } : {}),
  };
  const open = async (ep: ExecutionProvider, adapter?: WebGpuAdapter) => {
    // A missing CUDA library named before ONNX Runtime is asked (its own message would not say which).
    const problem = ep === 'cuda' ? cudaProblem() : undefined;
    if (problem) throw new Error(problem);
    const precision = precisionFor(ep, options.precision, adapter);
    const weights = weightsFor(ep, options.weights, weightsBytes);
    // The CPU's integer products (int8 weights, the 8-bit cache) only where they sum exactly
    // (integerGemmProbe.ts), asked only where they could be used.
    const gemmWeights = ep === 'cpu' && weights === 'int8' && !options.int8Kernel;
    const gemmCache = ep === 'cpu' && graphTargetFor(ep, { kvCache: options.kvCache, weightsBytes }).kvCache === 'int8';
    const exactIntegerGemm = !(gemmWeights || gemmCache) || (await (options.probeIntegerGemm ?? integerGemmIsExact)());
    kernelNote = exactIntegerGemm ? undefined : saturatingGemmNote(gemmWeights, gemmCache);
    const target = graphTargetFor(ep, { kvCache: options.kvCache, weightsBytes, int8: options.int8Kernel, exactIntegerGemm });
    const { bytes, modelFile } = await prepare(precision, target, weights);
    options.onLoadProgress?.('session', `starting ONNX Runtime (${ep}${adapter ? ` on ${describeAdapter(adapter)}` : ''}, ${precision}) and converting the weights`);
    const sessionOptions = { ...base, ...(weights === 'bf16' ? {} : { extra: { ...base.extra, session: QUANTIZED_SESSION } }), ...(externalData.length ? { externalData } : {}), ...providerSessionOptions(ep, options.deviceOutputs) };
    const session = await (modelFile ? ort.InferenceSession.create(modelFile, sessionOptions) : ort.InferenceSession.create(bytes, sessionOptions));
    return { session, precision, weights, target, modelFile, executionProvider: ep, adapter };
  };
  const probeAdapter = options.probeAdapter ?? probeWebGpuAdapter;
  /** WebGPU on the adapter Dawn offers; `explicit`: a software adapter will do. */
  const openWebGpu = async (explicit: boolean) => {
    const probe = await probeAdapter();
    if (!probe.adapter) throw new Error(probe.reason);
    if (probe.adapter.software && !explicit) throw new Error(`the adapter is a software renderer, ${describeAdapter(probe.adapter)}; --ep webgpu uses it anyway`);
    return open('webgpu', probe.adapter);
  };

  let opened: Awaited<ReturnType<typeof open>>;
  const reasons: string[] = [];
  let kernelNote: string | undefined;
  if (choice === 'cpu') {
    opened = await open('cpu');
  } else if (choice === 'cuda') {
    opened = await open('cuda').catch((error) => { throw new ProviderUnavailableError(`CUDA execution provider unavailable: ${firstLine(error)}`); });
  } else if (choice === 'webgpu') {
    opened = await openWebGpu(true).catch((error) => { throw new ProviderUnavailableError(`WebGPU execution provider unavailable: ${firstLine(error)}`); });
  } else {
    // auto: the first provider that loads, each fallback with its one-line reason.
    const attempts: [ExecutionProvider, () => ReturnType<typeof open>][] = [['cuda', () => open('cuda')], ['webgpu', () => openWebGpu(false)]];
    let found: Awaited<ReturnType<typeof open>> | undefined;
    for (const [ep, attempt] of attempts) {
      try {
        found = await attempt();
        break;
      } catch (error) {
        reasons.push(`${PROVIDER_NAMES[ep]} unavailable (${firstLine(error)})`);
      }
    }
    opened = found ?? (await open('cpu'));
    if (reasons.length) reasons.push(`using ${PROVIDER_NAMES[opened.executionProvider]}`);
  }
  const { session, precision, weights, target, modelFile, executionProvider, adapter } = opened;
  const threads = options.intraOpThreads ?? 'default';
  const fallbackReason = reasons.length || kernelNote ? [...reasons, ...(kernelNote ? [kernelNote] : [])].join('; ') : undefined;
  const deviceOutputs = executionProvider === 'webgpu' && options.deviceOutputs?.length ? 'device' : 'host';
  return { session, report: { executionProvider, ...(adapter ? { adapter } : {}), precision, weights, weightsScheme: describeScheme(weights, options.exactQuantizedArithmetic ? EXACT_ACCURACY_LEVEL : undefined, linearKernel(weights, target.int8)), quantizeMs, target, deviceOutputs, threads, fallbackReason, weightsBytes, weightFiles, modelFile, loadMs: performance.now() - started } };
}

/** Said where int8 weights fall back from the integer GEMM to MatMulNBits, or `auto`'s K/V cache to floats: only what did. */
export function saturatingGemmNote(weights: boolean, cache: boolean): string {
  const fallbacks = [...(weights ? ['int8 through MatMulNBits'] : []), ...(cache ? ['the K/V cache in floats'] : [])].join(' and ');
  return `${fallbacks}: this CPU's integer GEMM adds its byte products in saturating 16 bits (x86 without VNNI), which would clip them`;
}

/**
 * Session options of a graph with quantized weights. MatMulNBits' fast CPU kernels (integer
 * dot products at accuracy_level 4) run only on weights packed at load: without pre-packing
 * it widens the whole weight to float32 in every run (measured 100× slower for one row at
 * 8 bits); the integer GEMM (`MatMulIntegerToFloat`) would pack B again in every run. The
 * packed weight replaces the stored one; nothing in these graphs pre-packs float weights
 * any more (every linear layer is quantized).
 */
const QUANTIZED_SESSION = { disable_prepacking: '0' };

/** Largest constant ONNX Runtime may fold: a converted weight is at most twice its bf16 bytes. */
export function foldLimitBytes(weightsBytes: number): number {
  return Math.max(2 ** 30, 2 * weightsBytes);
}

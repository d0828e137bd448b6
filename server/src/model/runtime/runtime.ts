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
import { createHash } from 'node:crypto';
import { link, mkdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Checkpoint } from '../checkpoint/checkpoint';
import { encodeModel, type Graph } from '../graph/onnxGraph';
import type { Precision } from '../graph/textDecoder';

export type ExecutionProviderChoice = 'auto' | 'cuda' | 'cpu';
export type PrecisionChoice = 'auto' | Precision;

export interface SessionReport {
  executionProvider: 'cuda' | 'cpu';
  /** The graph's arithmetic type. */
  precision: Precision;
  /** Why `auto` fell back to CPU, in one line. */
  fallbackReason?: string;
  /** Threads per operator as asked, or 'default'. */
  threads: number | 'default';
  weightsBytes: number;
  weightFiles: 'hard-linked' | 'in-memory';
  modelFile?: string;
  loadMs: number;
}

/** Where loading is: reading headers, building the graph, linking the weights, starting the session. */
export type LoadStage = 'checkpoint' | 'graph' | 'weights' | 'session';

export interface RuntimeOptions {
  executionProvider?: ExecutionProviderChoice;
  /** `auto`: fp16 on CUDA, fp32 on CPU (whose kernels are float32; fp16 there only emulates). */
  precision?: PrecisionChoice;
  /** Called as loading moves through its stages (the session stage is the long one: weights are read and converted). */
  onLoadProgress?: (stage: LoadStage, detail: string) => void;
  /** Threads for each operator (ONNX Runtime's default, all physical cores, when unset). */
  intraOpThreads?: number;
  /** Folder for generated graphs (default: the user's cache). */
  cacheDir?: string;
}

// Failures (a missing CUDA library on `auto`) surface as exceptions and our one-line
// reason; ONNX Runtime's own stderr log would only repeat them in red.
ort.env.logLevel = 'fatal';

function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'video-scan', 'onnx');
}

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
  build: (location: (file: string) => string, precision: Precision) => Graph,
  name: string,
  options: RuntimeOptions = {},
): Promise<{ session: ort.InferenceSession; report: SessionReport }> {
  const started = performance.now();
  const weightsBytes = checkpoint.files.reduce((sum, f) => sum + f.bytes, 0);
  const choice = options.executionProvider ?? 'auto';
  const precisionFor = (ep: 'cuda' | 'cpu'): Precision => (options.precision && options.precision !== 'auto' ? options.precision : ep === 'cuda' ? 'fp16' : 'fp32');
  // The weights: hard links beside the model files (ONNX Runtime reads them in place), or,
  // where links are impossible, the files' bytes handed over in memory.
  let weightFiles: SessionReport['weightFiles'] = 'hard-linked';
  const externalData: { path: string; data: Uint8Array }[] = [];
  const prepare = async (precision: Precision): Promise<{ bytes: Uint8Array; modelFile?: string }> => {
    options.onLoadProgress?.('graph', `building the ${name} graph (${precision})`);
    const bytes = encodeModel(build(linkName, precision));
    options.onLoadProgress?.('weights', `linking ${checkpoint.files.length} weight file(s), ${(weightsBytes / 2 ** 30).toFixed(2)} GiB`);
    if (weightFiles === 'in-memory') return { bytes };
    const key = createHash('sha1').update(checkpoint.dir).update(bytes).digest('hex').slice(0, 16);
    const folder = join(options.cacheDir ?? defaultCacheDir(), `${name}-${key}`);
    const modelFile = join(folder, `${name}.onnx`);
    try {
      await mkdir(folder, { recursive: true });
      for (const file of checkpoint.files) {
        const target = join(folder, linkName(file.path));
        if (!(await sameFile(file.path, target))) {
          await rm(target, { force: true });
          // link() would hard-link a symlink itself (linkat without AT_SYMLINK_FOLLOW).
          await link(await realpath(file.path), target);
        }
      }
      await writeFile(modelFile, bytes);
      return { bytes, modelFile };
    } catch {
      weightFiles = 'in-memory';
      for (const file of checkpoint.files) externalData.push({ path: linkName(file.path), data: new Uint8Array(await readFile(file.path)) });
      return { bytes };
    }
  };
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    // No pre-packed copies of the weights: with pre-packing MLAS keeps packed weights beside
    // the folded ones — measured 4.2 vs 2.4 × the bf16 file, with no measurable speed
    // difference (docs/engine.md, "Memory").
    extra: { session: { disable_prepacking: '1' } },
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
  };
  // A failed CUDA attempt is reported in our one line; keep ONNX Runtime's own log quiet.
  const open = async (ep: 'cuda' | 'cpu') => {
    const precision = precisionFor(ep);
    const { bytes, modelFile } = await prepare(precision);
    options.onLoadProgress?.('session', `starting ONNX Runtime (${ep}, ${precision}) and converting the weights`);
    const sessionOptions = {
      ...base,
      ...(externalData.length ? { externalData } : {}),
      executionProviders: ep === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      ...(ep === 'cuda' ? { logSeverityLevel: 4 as const } : {}),
    };
    const session = await (modelFile ? ort.InferenceSession.create(modelFile, sessionOptions) : ort.InferenceSession.create(bytes, sessionOptions));
    return { session, precision, modelFile };
  };
  let opened: Awaited<ReturnType<typeof open>>;
  let executionProvider: SessionReport['executionProvider'] = 'cpu';
  let fallbackReason: string | undefined;
  if (choice === 'cpu') {
    opened = await open('cpu');
  } else {
    try {
      opened = await open('cuda');
      executionProvider = 'cuda';
    } catch (error) {
      if (choice === 'cuda') throw new Error(`CUDA execution provider unavailable: ${firstLine(error)}`);
      fallbackReason = `CUDA unavailable (${firstLine(error)}); using CPU`;
      opened = await open('cpu');
    }
  }
  const { session, precision, modelFile } = opened;
  const threads = options.intraOpThreads ?? 'default';
  return { session, report: { executionProvider, precision, threads, fallbackReason, weightsBytes, weightFiles, modelFile, loadMs: performance.now() - started } };
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0].slice(0, 200);
}

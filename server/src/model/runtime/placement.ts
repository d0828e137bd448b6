/**
 * Where ONNX Runtime ran each operator, read from its profiler's trace (a Chrome trace
 * JSON: one `Node` event per kernel run, with `args.provider` and `args.op_name`). The
 * profile is the one source that names the provider per node in every build; the verbose
 * log prints placements only to the process's stderr, which we cannot read in-process.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';

export interface NodePlacement {
  /** Op types that ran on the CPU provider (sorted, each once). */
  cpu: string[];
  /** Op types that ran on the session's accelerator (CUDA or WebGPU). */
  accelerator: string[];
}

/** The operators that carry the model's arithmetic: each should run on the accelerator. */
export const COMPUTE_HEAVY_OPS = new Set([
  'Gemm', 'MatMul', 'Softmax', 'GroupQueryAttention', 'MultiHeadAttention', 'LinearAttention', 'CausalConvWithState',
  'SimplifiedLayerNormalization', 'SkipSimplifiedLayerNormalization', 'LayerNormalization', 'MRotaryEmbedding',
]);

/** Ends the session's profiling and reads the placements from the trace file(s) in `dir`. */
export async function readNodePlacement(session: ort.InferenceSession, dir: string): Promise<NodePlacement> {
  await session.endProfiling();
  const cpu = new Set<string>();
  const accelerator = new Set<string>();
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    let events: unknown;
    try {
      events = JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch (error) {
      throw new Error(`${join(dir, name)}: ONNX Runtime's profile is not JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(events)) continue;
    for (const event of events as { cat?: unknown; args?: { provider?: unknown; op_name?: unknown } }[]) {
      const provider = event?.args?.provider;
      const op = event?.args?.op_name;
      if (event?.cat !== 'Node' || typeof provider !== 'string' || typeof op !== 'string' || op.startsWith('Memcpy')) continue;
      (provider === 'CPUExecutionProvider' ? cpu : accelerator).add(op);
    }
  }
  return { cpu: [...cpu].sort(), accelerator: [...accelerator].sort() };
}

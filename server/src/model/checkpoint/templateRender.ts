/**
 * Rendering a checkpoint's chat template within bounds. The template language has loops,
 * so a template can run for minutes and take gigabytes (nested `range(1e8)` grew the engine
 * to 4.8 GB and kept it deaf to cancels for 50 s). Each render runs on a fresh worker
 * thread with a deadline, a heap limit and an output limit, and a cancel terminates it at
 * once; the caller's thread stays free to answer messages meanwhile.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TemplateRenderReply, TemplateRenderRequest } from './templateWorker';

/** Bounds on one render. Qwen3.5's template renders in about a millisecond into a few hundred characters. */
export interface TemplateLimits {
  /** Wall-clock limit, milliseconds. */
  timeoutMs: number;
  /** Heap of the rendering thread, MB. */
  heapMb: number;
  /** Longest rendered prompt, characters. */
  maxChars: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = { timeoutMs: 5_000, heapMb: 256, maxChars: 4_000_000 };

/** A render stopped by a cancel (the message says `cancelled`, as the engine's cancels do). */
export class TemplateCancelledError extends Error {
  override name = 'TemplateCancelledError';
  readonly cancelled = true;
  constructor() {
    super('cancelled');
  }
}

/** The bundled worker beside dist/engine.js and dist/cli.js; under tsx (tests), the source. */
function startWorker(heapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(64, heapMb) };
  const built = join(__dirname, 'templateWorker.js');
  if (existsSync(built)) return new Worker(built, { resourceLimits });
  const source = join(__dirname, 'templateWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, resourceLimits });
}

/**
 * Renders `source` with `context`. Rejects with an Error whose message says which bound
 * was hit (the caller adds the file name), or with TemplateCancelledError on `signal`.
 */
export function renderTemplateBounded(source: string, context: Record<string, unknown>, signal?: AbortSignal, limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS): Promise<string> {
  if (signal?.aborted) return Promise.reject(new TemplateCancelledError());
  return new Promise<string>((resolve, reject) => {
    const worker = startWorker(limits.heapMb);
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate(); // stops a running loop between two bytecodes
      outcome();
    };
    const onAbort = () => finish(() => reject(new TemplateCancelledError()));
    const timer = setTimeout(() => finish(() => reject(new Error(`rendering took longer than ${limits.timeoutMs / 1000} s (a loop in the template?)`))), limits.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: TemplateRenderReply) => finish(() => ('text' in reply ? resolve(reply.text) : reject(new Error(reply.error)))));
    worker.once('error', (error: Error & { code?: string }) => finish(() => reject(new Error(error.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? `rendering used more than the ${limits.heapMb} MB a template may use`
      : error.message))));
    worker.once('exit', (code) => finish(() => reject(new Error(`the rendering thread exited (code ${code})`))));
    worker.postMessage({ source, context, maxChars: limits.maxChars } satisfies TemplateRenderRequest);
  });
}

/**
 * How far the 8-bit K/V cache moves a checkpoint's logits from the float32 cache, on the
 * same weights: after a text prompt of each context length, the last prompt row and then 8
 * decoded rows (each engine fed the float cache's greedy tokens, one run per token, so the
 * rows compare position for position). Cosine, ‖Δ‖ / ‖float‖ and top-1 agreement. The two
 * engines are loaded one after the other. Used by `bench quant`'s `kv-drift` child.
 */
import { argmax, type Cache, releaseCache, TextEngine, textPositions } from '../../server/src/model/runtime/engine';
import type { RuntimeOptions } from '../../server/src/model/runtime/runtime';

export interface KvDriftRow { context: number; rows: number; minCosine: number; maxRelativeError: number; top1: number }

const DECODED = 8;

async function logitsRows(dir: string, options: RuntimeOptions, prompt: number[], forced?: number[]): Promise<{ rows: Float32Array[]; tokens: number[] }> {
  const engine = await TextEngine.load(dir, options);
  const rows: Float32Array[] = [];
  const tokens: number[] = [];
  let cache: Cache = engine.emptyCache();
  const chunk = engine.defaultPrefillChunk;
  let step: { logits: Float32Array; cache: Cache } = { logits: new Float32Array(), cache };
  for (let start = 0; start < prompt.length; start += chunk) {
    const end = Math.min(prompt.length, start + chunk);
    step = await engine.forward(prompt.slice(start, end), textPositions(start, end - start), cache, end - start - 1);
    releaseCache(cache);
    cache = step.cache;
  }
  for (let i = 0; i <= DECODED; i++) {
    rows.push(step.logits.slice());
    if (i === DECODED) break;
    const next = forced ? forced[i] : argmax(step.logits);
    tokens.push(next);
    step = await engine.forward([next], textPositions(prompt.length + i, 1), cache, 0);
    releaseCache(cache);
    cache = step.cache;
  }
  await engine.session.release();
  return { rows, tokens };
}

export async function measureKvDrift(dir: string, options: RuntimeOptions, contexts: number[]): Promise<KvDriftRow[]> {
  const probe = await TextEngine.load(dir, { ...options, kvCache: 'float' });
  const words = 'the dog runs across the park and stops near a bench while people walk by '.repeat(Math.ceil(Math.max(...contexts) / 10));
  const all = probe.tokenizer.encode(words);
  await probe.session.release();
  const out: KvDriftRow[] = [];
  for (const context of contexts) {
    const prompt = all.slice(0, context);
    const float = await logitsRows(dir, { ...options, kvCache: 'float' }, prompt);
    const int8 = await logitsRows(dir, { ...options, kvCache: 'int8' }, prompt, float.tokens);
    let minCosine = 1, maxRelativeError = 0, top1 = 0;
    float.rows.forEach((a, r) => {
      const b = int8.rows[r];
      let dot = 0, aa = 0, bb = 0, dd = 0;
      for (let j = 0; j < a.length; j++) { dot += a[j] * b[j]; aa += a[j] * a[j]; bb += b[j] * b[j]; dd += (a[j] - b[j]) ** 2; }
      minCosine = Math.min(minCosine, dot / Math.sqrt(aa * bb));
      maxRelativeError = Math.max(maxRelativeError, Math.sqrt(dd / aa));
      if (argmax(a) === argmax(b)) top1++;
    });
    out.push({ context, rows: float.rows.length, minCosine, maxRelativeError, top1 });
  }
  return out;
}

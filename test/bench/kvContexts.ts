/**
 * Decode time per token after contexts of several lengths, the float32 K/V cache against the
 * 8-bit one, in one process: both engines prefill the same text prompt once (keeping the cache
 * at each context), then decode the same block from the same cache, every context and both
 * caches in turn, round after round, so that load from other processes on a shared machine
 * falls on all alike; the fastest round of each is kept (the one least disturbed). Used by `bench kvcache`'s
 * `kv-contexts` child.
 */
import { type Cache, releaseCache, TextEngine, textPositions } from '../../server/src/model/runtime/engine';
import type { RuntimeOptions } from '../../server/src/model/runtime/runtime';

export interface KvContextRow { context: number; kvCache: 'float' | 'int8'; loopMsPerToken: number; singleMsPerToken: number }

const ROUNDS = 9;
const LOOP_TOKENS = 16;
const SINGLE_TOKENS = 4;

/** Prefills `prompt` in chunks that end at each context, keeping the cache there. */
async function cachesAt(engine: TextEngine, prompt: number[], contexts: number[]): Promise<Map<number, Cache>> {
  const kept = new Map<number, Cache>();
  let cache = engine.emptyCache();
  let done = 0;
  const ends = [...new Set([...contexts, ...Array.from({ length: Math.ceil(prompt.length / 2048) }, (_, i) => Math.min(prompt.length, (i + 1) * 2048))])].sort((a, b) => a - b);
  for (const end of ends) {
    const step = await engine.forward(prompt.slice(done, end), textPositions(done, end - done), cache, end - done - 1);
    if (!kept.has(done)) releaseCache(cache);
    cache = step.cache;
    done = end;
    if (contexts.includes(end)) kept.set(end, cache);
  }
  return kept;
}

export async function measureKvContexts(dir: string, options: RuntimeOptions, contexts: number[]): Promise<KvContextRow[]> {
  const engines = { float: await TextEngine.load(dir, { ...options, kvCache: 'float' }), int8: await TextEngine.load(dir, { ...options, kvCache: 'int8' }) };
  for (const engine of Object.values(engines)) (engine.stopIds as number[]).length = 0; // a random checkpoint: every block runs in full
  const words = 'the dog runs across the park and stops near a bench while people walk by '.repeat(Math.ceil(Math.max(...contexts) / 10));
  const prompt = engines.float.tokenizer.encode(words).slice(0, Math.max(...contexts));
  const token = prompt[prompt.length - 1];
  const rows: KvContextRow[] = [];
  const caches = { float: await cachesAt(engines.float, prompt, contexts), int8: await cachesAt(engines.int8, prompt, contexts) };
  // Rounds outermost, so that every context and both caches sample the same stretch of time.
  const best = new Map(contexts.flatMap((context) => (['float', 'int8'] as const).map((kind) => [`${context} ${kind}`, { loop: Infinity, single: Infinity }])));
  for (let round = 0; round < ROUNDS; round++) {
    for (const context of contexts) {
      for (const kind of ['float', 'int8'] as const) {
        const engine = engines[kind];
        const cache = caches[kind].get(context)!;
        const kept = best.get(`${context} ${kind}`)!;
        let started = performance.now();
        const block = await engine.decodeBlock(token, context, cache, LOOP_TOKENS);
        kept.loop = Math.min(kept.loop, (performance.now() - started) / block.tokens.length);
        started = performance.now();
        let step = { cache };
        for (let i = 0; i < SINGLE_TOKENS; i++) step = await engine.forward([token], textPositions(context + i, 1), step.cache, 0);
        kept.single = Math.min(kept.single, (performance.now() - started) / SINGLE_TOKENS);
      }
    }
  }
  for (const context of contexts) {
    for (const kind of ['float', 'int8'] as const) rows.push({ context, kvCache: kind, loopMsPerToken: best.get(`${context} ${kind}`)!.loop, singleMsPerToken: best.get(`${context} ${kind}`)!.single });
  }
  return rows;
}

/**
 * Where a decoded token's time goes at each context (docs/benchmarks.md, "The decode Loop
 * beside the If"): one int8 engine prefills a text prompt in chunks of 2,048 up to the
 * longest context, keeping the cache at each, then decodes 16-token blocks from each cache
 * (4 rounds a context; the first is a warm-up). Prints per context the milliseconds per token
 * of every round and, from ONNX Runtime's profiler, the kernel milliseconds per token by
 * operator type and by operator and input shape (the cache-sized ones are what grows).
 * `node --import tsx test/bench/decodeProfile.ts DIR CACHE_DIR PROFILE_DIR [512,24576] [int8|float] [--no-profile]`
 * (--no-profile: the timings alone, without the profiler's overhead).
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Cache, releaseCache, TextEngine, textPositions } from '../../server/src/model/runtime/engine';
import type { KvCacheChoice } from '../../server/src/model/runtime/runtime';

interface TraceEvent { cat?: string; name?: string; dur?: number; args?: { op_name?: string; input_type_shape?: unknown } }

const BLOCK = 16;
const ROUNDS = 4;

async function main(): Promise<void> {
  const [dir, cacheDir, profileDir, list = '512,24576', kvCache = 'int8', flag] = process.argv.slice(2) as [string, string, string, string?, KvCacheChoice?, string?];
  const profile = flag !== '--no-profile';
  const contexts = list.split(',').map(Number);
  await rm(profileDir, { recursive: true, force: true });
  await mkdir(profileDir, { recursive: true });
  const engine = await TextEngine.load(dir, { executionProvider: 'cpu', weights: 'int8', cacheDir, kvCache, ...(profile ? { profileDir } : {}) });
  (engine.stopIds as number[]).length = 0; // a random checkpoint: every block runs in full
  const longest = Math.max(...contexts);
  const words = 'the dog runs across the park and stops near a bench while people walk by '.repeat(Math.ceil(longest / 10));
  const prompt = engine.tokenizer.encode(words).slice(0, longest);
  const kept = new Map<number, Cache>();
  let cache = engine.emptyCache();
  let done = 0;
  let runs = 0;
  const ends = [...new Set([...contexts, ...Array.from({ length: Math.ceil(longest / 2048) }, (_, i) => Math.min(longest, (i + 1) * 2048))])].sort((a, b) => a - b);
  for (const end of ends) {
    const step = await engine.forward(prompt.slice(done, end), textPositions(done, end - done), cache, end - done - 1);
    runs += 1;
    if (!kept.has(done)) releaseCache(cache);
    cache = step.cache;
    done = end;
    if (contexts.includes(end)) kept.set(end, cache);
  }
  const marks: { context: number; firstRun: number; msPerToken: number[] }[] = [];
  for (const context of contexts) {
    const mark = { context, firstRun: runs, msPerToken: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const block = await engine.decodeBlock(prompt[context - 1]!, context, kept.get(context)!, BLOCK);
      runs += 1;
      mark.msPerToken.push((performance.now() - started) / BLOCK);
      releaseCache(block.cache);
    }
    marks.push(mark);
  }
  if (!profile) {
    process.stdout.write(JSON.stringify({ contexts: marks.map(({ context, msPerToken }) => ({ context, msPerToken })) }));
    return;
  }
  await engine.session.endProfiling();
  const file = (await readdir(profileDir)).find((name) => name.endsWith('.json'))!;
  const events = JSON.parse(await readFile(join(profileDir, file), 'utf8')) as TraceEvent[];
  // Kernel events precede their run's model_run event (written at the run's end).
  const perRun: Map<string, number>[] = [new Map()];
  for (const event of events) {
    if (event.cat === 'Session' && event.name === 'model_run') { perRun.push(new Map()); continue; }
    if (event.cat !== 'Node' || !event.name?.endsWith('_kernel_time')) continue;
    const run = perRun[perRun.length - 1]!;
    const op = event.args?.op_name ?? '?';
    const ms = (event.dur ?? 0) / 1000;
    run.set(op, (run.get(op) ?? 0) + ms);
    const shaped = `${op} ${JSON.stringify(event.args?.input_type_shape ?? [])}`;
    run.set(shaped, (run.get(shaped) ?? 0) + ms);
  }
  const rows = marks.map(({ context, firstRun, msPerToken }) => {
    const sum = new Map<string, number>();
    const timed = perRun.slice(firstRun + 1, firstRun + ROUNDS); // the first round warms up
    for (const run of timed) for (const [key, ms] of run) sum.set(key, (sum.get(key) ?? 0) + ms / timed.length / BLOCK);
    const top = (shaped: boolean) => Object.fromEntries([...sum].filter(([key]) => key.includes(' ') === shaped).sort((a, b) => b[1] - a[1]).slice(0, shaped ? 16 : 14).map(([key, ms]) => [key, Number(ms.toFixed(3))]));
    return { context, msPerToken, byOpType: top(false), byShape: top(true) };
  });
  process.stdout.write(JSON.stringify({ contexts: rows }, null, 1));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * `npm run bench -- kvcache`: the 8-bit K/V cache against the float32 one on the CPU, on the
 * random checkpoint in the exact Qwen3.5-2B layout that `bench quant` writes (full width, 4
 * layers by default; BENCH_QUANT_LAYERS=24 for the full size, ~10 GB and a quiet machine):
 * decode time per token after contexts of 512, 8k and 24k tokens with int8 weights, the two
 * caches alternating in one process (kvContexts.ts) so that the machine's load falls on both
 * alike; the logits' drift between them; and one attention layer's step alone
 * (kvCacheKernels.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomCheckpoint } from '../helpers/randomCheckpoint';
import type { Table } from './stats';

const CONTEXTS = [512, 8192, 24576];
const SETTINGS = { pairs: 2, grid: [20, 36], promptTokens: 2048, newTokens: 32, contexts: CONTEXTS };

function run(script: string, args: string[]): unknown {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, script), ...args], { encoding: 'utf8', timeout: 3_600_000, maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`${script} ${args[0]}: ${child.stderr}`);
  return JSON.parse(child.stdout);
}

export async function benchKvCache(tables: Table[]): Promise<void> {
  const layers = Number(process.env.BENCH_QUANT_LAYERS ?? 4);
  const base = join(tmpdir(), `vscan-bench-quant-${layers}`);
  const dir = join(base, 'model');
  if (!existsSync(join(dir, 'model.safetensors'))) await writeRandomCheckpoint(dir, { textLayers: layers, visionDepth: layers });
  const cacheDir = join(base, 'cache-kv');
  await rm(cacheDir, { recursive: true, force: true });
  const size = layers === 24 ? 'full size (24 layers, 6 of them full attention)' : `full width, ${layers} of 24 layers (${layers / 4} full attention)`;
  const child = (mode: string, settings: object) => run('quantChild.ts', [mode, dir, 'int8', cacheDir, JSON.stringify(settings)]) as { rows: Record<string, number>[] };
  const rows = child('kv-contexts', SETTINGS).rows as unknown as { context: number; kvCache: string; loopMsPerToken: number; singleMsPerToken: number }[];
  const of = (kvCache: string) => rows.filter((r) => r.kvCache === kvCache);
  const ms = (x: number) => x.toFixed(1);
  tables.push({
    title: `Decode time per token against the context, float32 against 8-bit K/V cache (CPU, int8 weights, ${size})`,
    head: ['K/V cache', ...CONTEXTS.map((c) => `${c}: Loop ms/token`), `${CONTEXTS.at(-1)} ÷ ${CONTEXTS[0]}`, `one run per token ms: ${CONTEXTS.join(' / ')}`, `${CONTEXTS.at(-1)} ÷ ${CONTEXTS[0]}`],
    rows: ['float', 'int8'].map((kvCache) => {
      const r = of(kvCache);
      return [kvCache === 'float' ? 'float32' : '8-bit', ...r.map((x) => ms(x.loopMsPerToken)), `${(r.at(-1)!.loopMsPerToken / r[0].loopMsPerToken).toFixed(2)}×`,
        r.map((x) => ms(x.singleMsPerToken)).join(' / '), `${(r.at(-1)!.singleMsPerToken / r[0].singleMsPerToken).toFixed(2)}×`];
    }),
    notes: ['One process holding both engines (kvContexts.ts): each prefills the same text prompt once, keeping its cache at each context; then a 16-token Loop block and 4 tokens one run per token from that cache, 9 rounds, each going through every context and both caches. The fastest round of each is shown (the least disturbed by other load).'],
  });
  const drift = child('kv-drift', { ...SETTINGS, contexts: [512, 8192] }).rows;
  tables.push({
    title: `The 8-bit K/V cache's drift from the float32 cache (${size}, int8 weights)`,
    head: ['context', 'logit rows', 'min cosine', 'max ‖Δ‖ / ‖float‖', 'top-1 agreement'],
    rows: drift.map((r) => [String(r.context), String(r.rows), r.minCosine.toFixed(6), r.maxRelativeError.toExponential(2), `${r.top1}/${r.rows}`]),
    notes: ['The last prompt row and 8 decoded rows, both caches fed the float cache\'s greedy tokens one run per token.'],
  });
  const kernels = run('kvCacheKernels.ts', [...CONTEXTS.map(String), '--json']) as { past: number; fp32Ms: number; int8Ms: number; fp32Error: number; int8Error: number; scale: number }[];
  tables.push({
    title: 'One full-attention layer\'s decode step against its cache (8 query heads, 2 K/V heads of 256; median ms)',
    head: ['past tokens', 'float32 cache ms', '8-bit cache ms', 'ratio', 'max \\|error\\| float32 / 8-bit (of max \\|output\\|)'],
    rows: kernels.map((r) => [String(r.past), r.fp32Ms.toFixed(2), r.int8Ms.toFixed(2), `${(r.int8Ms / r.fp32Ms).toFixed(2)}×`, `${r.fp32Error.toExponential(1)} / ${r.int8Error.toExponential(1)} (${r.scale.toFixed(2)})`]),
    notes: ['Scores, float32 softmax and the weighted values over the cache only, as the decode Loop computes them; errors against float64 over the float32 cache (random normal K/V, a sharper query).'],
  });
  await rm(cacheDir, { recursive: true, force: true });
}

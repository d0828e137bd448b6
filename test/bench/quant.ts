/**
 * `npm run bench -- quant`: quantized weights against bf16 weights (computed in float32) on
 * a random checkpoint in the exact Qwen3.5-2B layout, written by the bench. Full size (24
 * text layers, 24 vision blocks) with BENCH_QUANT_LAYERS=24; by default full width with 4
 * of each, which one shared 2-core machine can run a few times (the table says which).
 * Each measurement in a fresh process, one at a time: first load (quantizing), load from
 * the graph cache, the vision tower on frame pairs of a 1080p clip's size, a prefill and a
 * greedy decode, resident memory after load and peak resident memory of the whole run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomCheckpoint } from '../helpers/randomCheckpoint';
import type { Table } from './stats';
import { benchClip } from './video';

/** The rows' names: int8-nbits is int8 through MatMulNBits (the CPU's kernel before the integer GEMM). */
const WEIGHTS_LABELS: Record<string, string> = { bf16: 'bf16 (fp32 arithmetic)', 'int8-nbits': 'int8, MatMulNBits b32', int8: 'int8, per-column integer GEMM' };

const SETTINGS = { pairs: 2, grid: [20, 36], promptTokens: 2048, newTokens: 32, contexts: [512, 8192, 24576] };

function child(mode: string, dir: string, weights: string, cacheDir: string, settings: object = SETTINGS): Record<string, number> & Record<string, unknown> {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'quantChild.ts'), mode, dir, weights, cacheDir, JSON.stringify(settings)], { encoding: 'utf8', timeout: 3_600_000, maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(`quant bench ${mode} ${weights}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

async function folderBytes(folder: string, prefix: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { recursive: true })) if (entry.split('/').pop()!.startsWith(prefix)) total += (await stat(join(folder, entry))).size;
  return total;
}

export async function benchQuant(tables: Table[]): Promise<void> {
  const layers = Number(process.env.BENCH_QUANT_LAYERS ?? 4);
  const base = join(tmpdir(), `vscan-bench-quant-${layers}`);
  const dir = join(base, 'model');
  // The checkpoint is kept between runs (gigabytes to write); the caches are not.
  if (!existsSync(join(dir, 'model.safetensors'))) await writeRandomCheckpoint(dir, { textLayers: layers, visionDepth: layers });
  const fileMiB = (await stat(join(dir, 'model.safetensors'))).size / 2 ** 20;
  const size = layers === 24 ? 'full size (24 text layers, 24 vision blocks)' : `full width, ${layers} text layers and ${layers} vision blocks (of 24)`;
  const results: Record<string, Record<string, number>> = {};
  for (const weights of ['bf16', 'int8-nbits', 'int8', 'int4']) {
    const cacheDir = join(base, `cache-${weights}`);
    await rm(cacheDir, { recursive: true, force: true });
    const first = child('load', dir, weights, cacheDir);
    const run = child('run', dir, weights, cacheDir);
    results[weights] = { ...run, firstLoadMs: first.loadMs, quantizeMs: first.quantizeMs, fileMiB: (await folderBytes(cacheDir, 'weights-')) / 2 ** 20 };
    await rm(cacheDir, { recursive: true, force: true });
  }
  // Decode time against the context (float32 and 8-bit K/V caches): `npm run bench -- kvcache` (kvCache.ts).
  benchLinearKernels(tables);
  benchDeltaNetConv(tables);
  if (process.env.BENCH_QUANT_CAPTION) await benchCaption(tables, dir, base, size);
  const drift: Record<string, Record<string, number>> = {};
  for (const weights of ['int8-nbits', 'int8', 'int4']) drift[weights] = child('drift', dir, weights, join(base, 'cache-drift'));
  await rm(join(base, 'cache-drift'), { recursive: true, force: true });
  const b = results.bf16;
  const ratio = (value: number, baseline: number) => `${(baseline / value).toFixed(2)}×`;
  const s = (ms: number) => (ms / 1000).toFixed(1);
  tables.push({
    title: `Quantized weights on CPU: random Qwen3.5-2B layout, ${size}, bf16 file ${(fileMiB / 1024).toFixed(2)} GiB`,
    head: ['weights', 'first load s (quantizing)', 'cached load s', `vision tower ms (${SETTINGS.pairs} pairs of ${SETTINGS.grid.join('×')} patches)`, `prefill ms (${SETTINGS.promptTokens} tokens)`, 'decode ms/token', 'resident after load MiB', 'peak resident MiB', 'quantized file MiB'],
    rows: Object.entries(results).map(([weights, r]) => [
      WEIGHTS_LABELS[weights] ?? weights,
      `${s(r.firstLoadMs)}${r.quantizeMs ? ` (${s(r.quantizeMs)})` : ''}`,
      s(r.loadMs),
      `${r.visionMs.toFixed(0)} (${ratio(r.visionMs, b.visionMs)})`,
      `${r.prefillMs.toFixed(0)} (${ratio(r.prefillMs, b.prefillMs)})`,
      `${r.decodeMsPerToken.toFixed(1)} (${ratio(r.decodeMsPerToken, b.decodeMsPerToken)})`,
      r.loadedMiB.toFixed(0),
      `${r.peakMiB.toFixed(0)} (${(r.peakMiB / b.peakMiB).toFixed(2)}×)`,
      r.fileMiB ? r.fileMiB.toFixed(0) : '—',
    ]),
    notes: [
      `Ratios in brackets: speed against bf16 weights in float32 in the same run (higher is faster), memory as a fraction of bf16's. Greedy decode of ${SETTINGS.newTokens} tokens after the prefill (16-token Loop blocks). Each row in a fresh process, one process at a time.`,
      `Drift from bf16 on this checkpoint (8 chat prompts' last-row logits; one frame pair's vision features): ${Object.entries(drift).map(([w, d]) => `${WEIGHTS_LABELS[w] ?? w}: logits cosine ≥ ${d.minLogitCosine.toFixed(4)}, relative error ≤ ${d.maxLogitRelativeError.toFixed(3)}, top-1 ${(100 * d.top1Agreement).toFixed(0)}%, vision cosine ≥ ${d.minVisionCosine.toFixed(4)} (mean ${d.meanVisionCosine.toFixed(4)})`).join('; ')}.`,
    ],
  });
}

/**
 * BENCH_QUANT_CAPTION=1: a whole caption of a 30-second 1920×1080 clip (64 greedy tokens),
 * bf16 weights in float32 against int8, each in a fresh process from an empty graph cache
 * (the int8 row's load includes quantizing). Long at full size: minutes per row.
 */
async function benchCaption(tables: Table[], dir: string, base: string, size: string): Promise<void> {
  const clip = await benchClip('clip-1080p-30s.mp4', '1920x1080', 30);
  const rows: Record<string, Record<string, number>> = {};
  for (const weights of ['bf16', 'int8']) {
    const cacheDir = join(base, `cache-caption-${weights}`);
    await rm(cacheDir, { recursive: true, force: true });
    rows[weights] = child('caption', dir, weights, cacheDir, { ...SETTINGS, newTokens: 64, clip });
    await rm(cacheDir, { recursive: true, force: true });
  }
  const s = (ms: number) => (ms / 1000).toFixed(1);
  tables.push({
    title: `Caption of a 30-second 1920×1080 clip on CPU: random Qwen3.5-2B layout, ${size} (s)`,
    head: ['weights', 'load (quantizing)', 'video stages', 'vision tower', 'prefill', 'decode', 'caption wall time', 'vs bf16', 'peak resident MiB'],
    rows: Object.entries(rows).map(([weights, r]) => [
      weights === 'bf16' ? 'bf16 (fp32 arithmetic)' : weights, `${s(r.loadMs)}${r.quantizeMs ? ` (${s(r.quantizeMs)})` : ''}`, s(r.video), s(r.vision),
      `${s(r.prefill)} (${r.promptTokens} tokens)`, `${s(r.decode)} (${r.tokens} tokens)`, s(r.captionMs), `${(r.captionMs / rows.bf16.captionMs).toFixed(2)}×`, r.peakMiB.toFixed(0),
    ]),
    notes: ['Each row in a fresh process from an empty graph cache; the caption wall time excludes loading.'],
  });
}

/**
 * One linear layer's kernels at the vision tower's and prefill's shapes and at one decoded
 * row (`linearKernels.ts`, one process per shape, rounds alternating): why int8's vision
 * tower and prefill are far less than 2× fp32's (docs/benchmarks.md, "Where the time goes").
 */
export function benchLinearKernels(tables: Table[]): void {
  const shapes = [[720, 1024, 4096], [720, 4096, 1024], [2048, 2048, 6144], [2048, 6144, 2048], [16, 2048, 6144], [1, 2048, 6144]];
  const results = shapes.map(([m, k, n]) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'linearKernels.ts'), String(m), String(k), String(n), m < 100 ? '21' : '7'], { encoding: 'utf8', timeout: 600_000 });
    if (run.status !== 0) throw new Error(`linear kernels ${m}×${k}×${n}: ${run.stderr}`);
    return JSON.parse(run.stdout) as { M: number; K: number; N: number; rows: { name: string; medianMs: number; speedVsFloat32: number; relativeError: number; relativeErrorOutlierTokens: number }[] };
  });
  tables.push({
    title: 'One linear layer on CPU: float32 MatMul against 8-bit kernels (median ms, speed against float32, relative error with outlier channels / outlier tokens)',
    head: ['rows M × K → N', ...results[0].rows.map((r) => r.name)],
    rows: results.map((r) => [`${r.M} × ${r.K} → ${r.N}`, ...r.rows.map((v) => `${v.medianMs.toFixed(2)} (${v.speedVsFloat32.toFixed(2)}×, ${(100 * v.relativeError).toFixed(1)}% / ${(100 * v.relativeErrorOutlierTokens).toFixed(1)}%)`)]),
    notes: ['Random weights; activations uniform with every 64th column 30× larger (outlier channels; timed) or every 64th row 100× larger (outlier tokens). One process per shape, the kernels alternating for 7 rounds (21 below 100 rows).'],
  });
}

/**
 * The DeltaNet convolution at prefill's chunk (2,048 tokens) and at one token, ONNX Runtime's
 * CausalConvWithState against a grouped Conv (`deltaNetConv.ts`, one process per shape):
 * why the decoder keeps the contrib operator (docs/benchmarks.md, "The DeltaNet convolution in prefill").
 */
export function benchDeltaNetConv(tables: Table[]): void {
  const results = [2048, 1].map((tokens) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'deltaNetConv.ts'), String(tokens), '6144', tokens > 1 ? '7' : '51'], { encoding: 'utf8', timeout: 600_000 });
    if (run.status !== 0) throw new Error(`DeltaNet convolution at ${tokens} tokens: ${run.stderr}`);
    return JSON.parse(run.stdout) as { T: number; rows: { name: string; medianMs: number }[]; maxOutputDifference: number };
  });
  tables.push({
    title: 'The DeltaNet convolution on CPU, 6,144 channels, kernel 4, with SiLU (median ms)',
    head: ['tokens', ...results[0]!.rows.map((r) => r.name), 'largest difference'],
    rows: results.map((r) => [String(r.T), ...r.rows.map((v) => v.medianMs.toFixed(2)), r.maxOutputDifference.toExponential(1)]),
    notes: ['Both from x [1, T, C] through a Transpose to [1, C, T] and back, as the decoder has it; the rounds alternate in one process.'],
  });
}

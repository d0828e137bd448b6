/**
 * Our engine against transformers' own Qwen3.5, for a machine with PyTorch but no Node:
 * `prepare` (here) writes tiny checkpoints of several shapes, the inputs (input_ids and 3-D
 * position_ids) and our logits into a folder; `hf_reference.py` (there) runs the same inputs
 * through Qwen3_5ForConditionalGeneration and writes `logits_hf.npy` beside ours; `compare`
 * (here again) prints max |Δlogit| per variant. See docs/engine.md, "Against transformers".
 *
 *   node --import tsx test/device/hfReference.ts prepare DIR
 *   python3 test/device/hf_reference.py DIR          # on the PyTorch machine
 *   node --import tsx test/device/hfReference.ts compare DIR
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, writeNpy } from '../../server/src/io/npy';
import { type TinyOptions, writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { TextEngine } from '../../server/src/model/runtime/engine';

/** The checkpoint shapes compared, each a tiny random checkpoint (a few hundred KB). */
export const HF_VARIANTS: { name: string; what: string; options: TinyOptions }[] = [
  { name: 'default', what: 'the tiny checkpoint as `vscan model tiny` writes it', options: {} },
  { name: 'attention-bias', what: 'attention_bias true: random q/k/v/o biases', options: { attentionBias: true } },
  { name: 'no-head-dim', what: 'no head_dim and no rope_parameters: head_dim 256, rope_theta, partial_rotary_factor and mrope_section from the defaults', options: { omitTextKeys: ['head_dim', 'rope_parameters'] } },
  { name: 'not-interleaved', what: 'mrope_interleaved false (upstream ignores it)', options: { mropeInterleaved: false } },
  { name: 'full-first', what: 'layers full/linear/full, 4 query heads on 1 KV head, head_dim 64, mrope_section [5, 2, 1]', options: { layerTypes: ['full_attention', 'linear_attention', 'full_attention'], numAttentionHeads: 4, numKeyValueHeads: 1, headDim: 64, mropeSection: [5, 2, 1] } },
  { name: 'mha-bias', what: 'layers linear/full, 2 heads without grouping, head_dim 64, mrope_section [2, 4, 2], biases', options: { layerTypes: ['linear_attention', 'full_attention'], numAttentionHeads: 2, numKeyValueHeads: 2, headDim: 64, mropeSection: [2, 4, 2], attentionBias: true } },
];

/** Largest |Δlogit| we accept between float32 runs (the tolerance of our float64 reference checks). */
export const HF_TOLERANCE = 1e-3;

/**
 * Positions as a video prompt has them: four text tokens, a 2×3 block of visual positions
 * at p = 4 (T = p, H = p + row, W = p + col), then text from p + max(2, 3) on.
 */
export function hfPositions(): { ids: number[]; positions: number[][] } {
  const positions: number[][] = [[], [], []];
  const push = (t: number, h: number, w: number) => { positions[0].push(t); positions[1].push(h); positions[2].push(w); };
  for (let p = 0; p < 4; p++) push(p, p, p);
  for (let row = 0; row < 2; row++) for (let col = 0; col < 3; col++) push(4, 4 + row, 4 + col);
  for (let p = 7; p < 10; p++) push(p, p, p);
  // Plain token ids (no vision placeholders: both sides embed them as text).
  const ids = positions[0].map((_, i) => 40 + ((i * 37) % 150));
  return { ids, positions };
}

/** Writes every variant's checkpoint, inputs and our logits under `folder`. */
export async function prepareHfReference(folder: string, log: (line: string) => void = console.log): Promise<void> {
  const { ids, positions } = hfPositions();
  // The graph cache hard-links the weights: keep it out of the folder that travels.
  const cacheDir = await mkdtemp(join(tmpdir(), 'vscan-hf-reference-'));
  try {
    for (const variant of HF_VARIANTS) await prepareVariant(join(folder, variant.name), variant, ids, positions, cacheDir, log);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
  await writeFile(join(folder, 'variants.json'), JSON.stringify({ tolerance: HF_TOLERANCE, variants: HF_VARIANTS.map(({ name, what }) => ({ name, what })) }, null, 2) + '\n');
}

/** One variant's checkpoint, inputs and our float32 logits. */
async function prepareVariant(dir: string, variant: typeof HF_VARIANTS[number], ids: number[], positions: number[][], cacheDir: string, log: (line: string) => void): Promise<void> {
  const checkpoint = join(dir, 'checkpoint');
  await writeTinyCheckpoint(checkpoint, { seed: 5, ...variant.options });
  const engine = await TextEngine.load(checkpoint, { executionProvider: 'cpu', precision: 'fp32', cacheDir });
  const out = await engine.forward(ids, positions, engine.emptyCache(), 0);
  await writeNpy(join(dir, 'input_ids.npy'), { dtype: 'int64', data: ids, shape: [1, ids.length] });
  await writeNpy(join(dir, 'position_ids.npy'), { dtype: 'int64', data: positions.flat(), shape: [3, 1, ids.length] });
  await writeNpy(join(dir, 'logits_ours.npy'), { dtype: 'float32', data: out.logits, shape: [1, out.rows, engine.vocabSize] });
  log(`${variant.name}: ${variant.what}`);
}

export interface HfComparison {
  name: string;
  /** max |Δlogit|, or undefined when a side is missing (then `problem` says which). */
  maxAbsDiff?: number;
  /** Whether the greedy token agrees at every position. */
  argmaxAgrees?: boolean;
  problem?: string;
}

async function readLogits(file: string): Promise<Float32Array> {
  const array = decodeNpy(await readFile(file));
  if (array.dtype !== 'float32') throw new Error(`${file}: expected float32 logits, got ${array.dtype}`);
  return array.data;
}

function argmaxRows(logits: Float32Array, vocab: number): number[] {
  const rows: number[] = [];
  for (let r = 0; r < logits.length / vocab; r++) {
    let best = 0;
    for (let j = 1; j < vocab; j++) if (logits[r * vocab + j] > logits[r * vocab + best]) best = j;
    rows.push(best);
  }
  return rows;
}

/** Ours against transformers' per variant; a missing or malformed side is reported, not thrown. */
export async function compareHfReference(folder: string): Promise<HfComparison[]> {
  const results: HfComparison[] = [];
  for (const { name } of HF_VARIANTS) {
    const dir = join(folder, name);
    const hfFile = join(dir, 'logits_hf.npy');
    try {
      await stat(hfFile);
    } catch {
      const error = await readFile(join(dir, 'error_hf.txt'), 'utf8').catch(() => undefined);
      results.push({ name, problem: error ? `transformers failed: ${error.trim().split('\n').pop()}` : `${hfFile} is missing (run hf_reference.py on ${folder})` });
      continue;
    }
    try {
      const [ours, theirs] = [await readLogits(join(dir, 'logits_ours.npy')), await readLogits(hfFile)];
      if (ours.length !== theirs.length) throw new Error(`${hfFile} holds ${theirs.length} logits, ours ${ours.length}`);
      let diff = 0;
      for (let i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
      const vocab = decodeNpy(await readFile(join(dir, 'logits_ours.npy'))).shape[2];
      const agrees = argmaxRows(ours, vocab).every((id, r) => id === argmaxRows(theirs, vocab)[r]);
      results.push({ name, maxAbsDiff: Number.isNaN(diff) ? Infinity : diff, argmaxAgrees: agrees });
    } catch (error) {
      results.push({ name, problem: (error as Error).message });
    }
  }
  return results;
}

async function main(args: string[]): Promise<number> {
  const [command, folder] = args;
  if (!folder || (command !== 'prepare' && command !== 'compare')) {
    console.error('usage: node --import tsx test/device/hfReference.ts prepare|compare DIR');
    return 2;
  }
  if (command === 'prepare') {
    await mkdir(folder, { recursive: true });
    await prepareHfReference(folder);
    console.log(`wrote ${HF_VARIANTS.length} variants to ${folder}; next: python3 test/device/hf_reference.py ${folder}`);
    return 0;
  }
  let ok = true;
  for (const result of await compareHfReference(folder)) {
    if (result.problem !== undefined) {
      ok = false;
      console.log(`${result.name.padEnd(16)} ${result.problem}`);
      continue;
    }
    const pass = result.maxAbsDiff! <= HF_TOLERANCE && result.argmaxAgrees;
    ok &&= pass === true;
    console.log(`${result.name.padEnd(16)} max |Δlogit| ${result.maxAbsDiff!.toExponential(2)}  argmax ${result.argmaxAgrees ? 'agrees' : 'differs'}  ${pass ? 'ok' : 'FAIL'}`);
  }
  return ok ? 0 : 1;
}

if (process.argv[1] && /hfReference\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
}

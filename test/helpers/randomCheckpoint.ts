/**
 * A random checkpoint at the real Qwen3.5-2B sizes (or full width with fewer layers), for
 * benchmarks: the tiny checkpoint's folder (tokenizer, templates, configs) with config.json
 * widened to the 2B text layout and, optionally, the 2B vision tower, and bf16 weights
 * written tensor by tensor (the file is beyond Node's 4 GiB buffer limit). Uniform values
 * scaled by 1/√fan-in, so activations stay in range through the layers.
 */
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectedTensors } from '../../server/src/model/checkpoint/checkpoint';
import { readModelConfig } from '../../server/src/model/checkpoint/config';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';

/** Qwen3.5-2B's text_config (model.md; the numbers its config.json holds). */
export const TEXT_2B = {
  vocab_size: 248320, hidden_size: 2048, intermediate_size: 6144, num_hidden_layers: 24,
  layer_types: Array.from({ length: 24 }, (_, i) => ((i + 1) % 4 ? 'linear_attention' : 'full_attention')),
  num_attention_heads: 8, num_key_value_heads: 2, head_dim: 256,
  linear_num_key_heads: 16, linear_num_value_heads: 16, linear_key_head_dim: 128, linear_value_head_dim: 128,
  rope_parameters: { rope_type: 'default', rope_theta: 10_000_000, partial_rotary_factor: 0.25, mrope_section: [11, 11, 10], mrope_interleaved: true },
};

/** Qwen3.5-2B's vision_config. */
export const VISION_2B = {
  depth: 24, hidden_size: 1024, intermediate_size: 4096, num_heads: 16, in_channels: 3, patch_size: 16,
  temporal_patch_size: 2, spatial_merge_size: 2, out_hidden_size: 2048, num_position_embeddings: 2304,
};

export interface RandomCheckpointOptions {
  /** Text layers (keeps the DeltaNet ×3 + full attention pattern); default 24. */
  textLayers?: number;
  /** The 2B vision tower with this many blocks; absent: the tiny checkpoint's tower. */
  visionDepth?: number;
}

/** Writes the checkpoint; returns its bf16 bytes. */
export async function writeRandomCheckpoint(dir: string, options: RandomCheckpointOptions = {}): Promise<number> {
  await writeTinyCheckpoint(dir, { seed: 1 });
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  const layers = options.textLayers ?? 24;
  Object.assign(config.text_config, TEXT_2B, { num_hidden_layers: layers, layer_types: TEXT_2B.layer_types.slice(0, layers) });
  if (options.visionDepth !== undefined) Object.assign(config.vision_config, VISION_2B, { depth: options.visionDepth });
  config.vision_config.out_hidden_size = TEXT_2B.hidden_size;
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
  try {
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
      // Norms that scale by w itself (the vision LayerNorms, DeltaNet's gated norm) centred on 1; dt_bias 1.
      const plainNorm = (t.name.includes('visual') && /norm\d?\.weight$/.test(t.name)) || t.name.endsWith('linear_attn.norm.weight');
      const shift = t.name.endsWith('dt_bias') || plainNorm ? 1 : 0;
      // In slices of 8 M values: bounded memory for the 1 GB embedding.
      for (let start = 0; start < count; start += 1 << 23) {
        const out = new Uint16Array(Math.min(1 << 23, count - start));
        for (let i = 0; i < out.length; i++) {
          state ^= state << 13; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
          f32[0] = (state / 4294967296 - 0.5) * 3.46 * scale + shift;
          out[i] = u32[0] >>> 16;
        }
        await file.write(new Uint8Array(out.buffer));
      }
    }
  } finally {
    await file.close();
  }
  return offset;
}

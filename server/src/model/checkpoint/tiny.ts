/**
 * `vscan model tiny`: writes a small random Qwen3.5 checkpoint in the exact Hugging Face
 * layout (config.json with text and vision sub-configs and the real layer_types pattern,
 * bf16 model.safetensors with the real tensor names, tokenizer, chat template, generation
 * and preprocessor configs). Tests and demos load it through the same code as the real one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectedTensors } from './checkpoint';
import { type LayerType, type ModelConfig, readModelConfig, TEXT_DEFAULTS } from './config';
import { toBfloat16, writeSafetensors } from './safetensors';
import { buildTinyTokenizer, TINY_CHAT_TEMPLATE } from './tinyTokenizer';

/** Mulberry32 with Box–Muller: seeded, so a seed names a checkpoint exactly. */
export function seededRandom(seed: number): { uniform(): number; normal(): number } {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    uniform,
    normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
  };
}

export interface TinyOptions {
  seed?: number;
  /** Override sizes (the benchmark writes a mid-size model this way). */
  hiddenSize?: number;
  numLayers?: number;
  intermediateSize?: number;
  /** `attention_bias: true`: random q/k/v/o biases on the full-attention layers. */
  attentionBias?: boolean;
  /** layer_types (sets the layer count); default: DeltaNet ×3 then full attention, repeated. */
  layerTypes?: LayerType[];
  numAttentionHeads?: number;
  numKeyValueHeads?: number;
  headDim?: number;
  /** Rotary frequencies per T/H/W stream; default: half the rotary dims split as Qwen does. */
  mropeSection?: [number, number, number];
  /** Written as rope_parameters.mrope_interleaved (upstream, and so the engine, ignore it). */
  mropeInterleaved?: boolean;
  /**
   * text_config keys left out of config.json, so that the Hugging Face defaults apply (the
   * tensors follow them); `rope_parameters` drops the whole rotary block, and
   * `rope_parameters.rope_theta` one key of it.
   */
  omitTextKeys?: string[];
}

/** The config.json content of a tiny checkpoint. */
export function tinyConfigJson(vocabSize: number, ids: Record<string, number>, options: TinyOptions = {}): Record<string, unknown> {
  const hidden = options.hiddenSize ?? 64;
  const layerTypes = options.layerTypes
    ?? Array.from({ length: options.numLayers ?? 4 }, (_, i) => ((i + 1) % 4 ? 'linear_attention' : 'full_attention'));
  const omit = new Set(options.omitTextKeys ?? []);
  const headDim = options.headDim ?? Math.max(16, hidden / 2);
  // Split half the rotary dimension over T, H, W as Qwen does ([11, 11, 10] for 32), for the
  // head size the reader will see (the upstream default when head_dim is left out).
  const rotaryHalf = ((omit.has('head_dim') ? TEXT_DEFAULTS.head_dim : headDim) * 0.25) / 2;
  const base = Math.floor(rotaryHalf / 3);
  const rest = rotaryHalf - 3 * base;
  const section = options.mropeSection ?? [base + (rest > 0 ? 1 : 0), base + (rest > 1 ? 1 : 0), base];
  const text: Record<string, unknown> = {
    model_type: 'qwen3_5_text',
    vocab_size: vocabSize,
    hidden_size: hidden,
    intermediate_size: options.intermediateSize ?? hidden * 2,
    num_hidden_layers: layerTypes.length,
    layer_types: layerTypes,
    num_attention_heads: options.numAttentionHeads ?? 4,
    num_key_value_heads: options.numKeyValueHeads ?? 2,
    head_dim: headDim,
    attention_bias: options.attentionBias ?? false,
    hidden_act: 'silu',
    rms_norm_eps: 1e-6,
    max_position_embeddings: 32768,
    rope_parameters: {
      rope_type: 'default', rope_theta: 10_000_000, partial_rotary_factor: 0.25, mrope_section: section,
      mrope_interleaved: options.mropeInterleaved ?? true,
    },
    linear_num_key_heads: 2,
    linear_num_value_heads: 4,
    linear_key_head_dim: 16,
    linear_value_head_dim: 16,
    linear_conv_kernel_dim: 4,
    attn_output_gate: true,
    tie_word_embeddings: true,
    eos_token_id: ids['<|im_end|>'],
  };
  for (const key of omit) {
    const [outer, inner] = key.split('.');
    if (inner === undefined) delete text[outer];
    else delete (text[outer] as Record<string, unknown> | undefined)?.[inner];
  }
  return {
    architectures: ['Qwen3_5ForConditionalGeneration'],
    model_type: 'qwen3_5',
    image_token_id: ids['<|image_pad|>'],
    video_token_id: ids['<|video_pad|>'],
    vision_start_token_id: ids['<|vision_start|>'],
    vision_end_token_id: ids['<|vision_end|>'],
    tie_word_embeddings: true,
    text_config: text,
    vision_config: {
      model_type: 'qwen3_5_vision',
      depth: 2,
      hidden_size: 32,
      intermediate_size: 64,
      num_heads: 2,
      in_channels: 3,
      patch_size: 16,
      temporal_patch_size: 2,
      spatial_merge_size: 2,
      out_hidden_size: hidden,
      num_position_embeddings: 64,
      hidden_act: 'gelu_pytorch_tanh',
    },
  };
}

/** Values for one tensor, by what the name says it is. */
function initialValues(name: string, count: number, random: ReturnType<typeof seededRandom>, fanIn: number): Float32Array {
  const values = new Float32Array(count);
  if (name.endsWith('A_log')) {
    for (let i = 0; i < count; i++) values[i] = Math.log(1 + 15 * random.uniform());
  } else if (name.endsWith('dt_bias')) {
    values.fill(1);
  } else if (/norm\d?\.weight$|layernorm\.weight$/.test(name) && !name.includes('visual') && !name.endsWith('linear_attn.norm.weight')) {
    // (1 + w) RMSNorms are stored centred on 0.
    for (let i = 0; i < count; i++) values[i] = 0.1 * random.normal();
  } else if (/norm\d?\.weight$/.test(name)) {
    for (let i = 0; i < count; i++) values[i] = 1 + 0.1 * random.normal();
  } else {
    // Attention biases large enough that a graph dropping them is visibly wrong.
    const scale = /self_attn\.\w+_proj\.bias$/.test(name) ? 0.5 : name.endsWith('.bias') ? 0.02 : 1 / Math.sqrt(fanIn);
    for (let i = 0; i < count; i++) values[i] = scale * random.normal();
  }
  return values;
}

export async function writeTinyCheckpoint(dir: string, options: TinyOptions = {}): Promise<ModelConfig> {
  const seed = options.seed ?? 0;
  const random = seededRandom(seed);
  const tokenizer = buildTinyTokenizer();
  const configJson = tinyConfigJson(tokenizer.vocabSize, tokenizer.ids, options);
  await mkdir(dir, { recursive: true });
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  await writeFile(join(dir, 'config.json'), json(configJson));
  // Parse what we wrote through the same reader as real checkpoints.
  const config = await readModelConfig(dir);
  const tensors = expectedTensors(config).map(({ name, shape }) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const values = initialValues(name, count, random, shape.slice(1).reduce((a, b) => a * b, 1) || 1);
    const bits = toBfloat16(values);
    return { name, dtype: 'BF16' as const, shape, data: new Uint8Array(bits.buffer) };
  });
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', generator: `vscan model tiny --seed ${seed}` });
  await writeFile(join(dir, 'tokenizer.json'), json(tokenizer.tokenizerJson));
  await writeFile(join(dir, 'tokenizer_config.json'), json({
    model_max_length: 262144,
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    clean_up_tokenization_spaces: false,
    added_tokens_decoder: Object.fromEntries(Object.entries(tokenizer.ids).map(([content, id]) => [String(id), { content, special: content.startsWith('<|') }])),
  }));
  await writeFile(join(dir, 'chat_template.jinja'), TINY_CHAT_TEMPLATE);
  await writeFile(join(dir, 'generation_config.json'), json({
    eos_token_id: [tokenizer.ids['<|im_end|>'], tokenizer.ids['<|endoftext|>']],
    pad_token_id: tokenizer.ids['<|endoftext|>'],
    do_sample: false,
  }));
  const preprocessor = { patch_size: 16, temporal_patch_size: 2, merge_size: 2, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] };
  await writeFile(join(dir, 'preprocessor_config.json'), json({ ...preprocessor, image_processor_type: 'Qwen2VLImageProcessorFast' }));
  await writeFile(join(dir, 'video_preprocessor_config.json'), json({ ...preprocessor, video_processor_type: 'Qwen3VLVideoProcessor' }));
  return config;
}

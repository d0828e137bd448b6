/**
 * The model configuration, read from a checkpoint's config.json and checked: every number
 * the engine needs is read from here (never hard-coded). A key the file leaves out takes the
 * default of the Hugging Face configuration class (transformers' configuration_qwen3_5.py),
 * as transformers would load it; a mistyped or unsupported value fails with a message naming
 * the file and the key.
 */
import { join } from 'node:path';
import { readJsonObject } from '../../io/json';
import { checkConfigSize } from './configSize';
import { CheckpointError } from './safetensors';

export type LayerType = 'linear_attention' | 'full_attention';

export interface TextConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  layerTypes: LayerType[];
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  /** q/k/v/o projections of the full-attention layers carry biases (`attention_bias`). */
  attentionBias: boolean;
  rmsNormEps: number;
  ropeTheta: number;
  partialRotaryFactor: number;
  /**
   * Rotary frequencies per T/H/W stream, always in the interleaved layout: upstream Qwen3.5
   * ignores `mrope_interleaved`, and so do we.
   */
  mropeSection: [number, number, number];
  /** Positions beyond this have no rotary table row (the tables are built up to it). */
  maxPositionEmbeddings: number;
  linearNumKeyHeads: number;
  linearNumValueHeads: number;
  linearKeyHeadDim: number;
  linearValueHeadDim: number;
  linearConvKernel: number;
  tieWordEmbeddings: boolean;
}

export interface VisionConfig {
  depth: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  inChannels: number;
  patchSize: number;
  temporalPatchSize: number;
  spatialMergeSize: number;
  outHiddenSize: number;
  numPositionEmbeddings: number;
}

export interface ModelConfig {
  modelType: 'qwen3_5';
  text: TextConfig;
  vision: VisionConfig;
  imageTokenId: number;
  videoTokenId: number;
  visionStartTokenId: number;
  visionEndTokenId: number;
  /**
   * Keys config.json leaves out that took the Hugging Face default, as `text_config.head_dim
   * = 256`: named in errors a default causes (a tensor shape it implies, say).
   */
  defaulted: string[];
}

export const SUPPORTED_MODEL_TYPES = ['qwen3_5'];

/**
 * Typed reads from one object of config.json. An absent (or null) key takes the given
 * default, which is recorded in `defaulted`; a present key of the wrong type fails.
 */
class Reader {
  constructor(
    private readonly file: string,
    private readonly where: string,
    private readonly object: Record<string, unknown>,
    readonly defaulted: string[],
  ) {}

  private fail(key: string, expected: string): never {
    throw new CheckpointError(`${this.file}: ${this.where}${key} must be ${expected}, got ${JSON.stringify(this.object[key])}`);
  }

  /** Whether config.json gives the key (null counts as absent, as for transformers' defaults). */
  has(key: string): boolean {
    return this.object[key] !== undefined && this.object[key] !== null;
  }

  private value(key: string, fallback: unknown): unknown {
    if (this.has(key)) return this.object[key];
    if (fallback !== undefined) this.defaulted.push(`${this.where}${key} = ${JSON.stringify(fallback)}`);
    return fallback;
  }

  int(key: string, fallback?: number): number {
    const value = this.value(key, fallback);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) this.fail(key, 'a positive integer');
    return value;
  }

  number(key: string, fallback?: number): number {
    const value = this.value(key, fallback);
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) this.fail(key, 'a positive number');
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.value(key, fallback);
    if (typeof value !== 'boolean') this.fail(key, 'true or false');
    return value;
  }

  /** A sub-object; an absent one reads as empty, so every key in it takes its default. */
  child(key: string): Reader {
    const value = this.object[key];
    if (this.has(key) && (typeof value !== 'object' || Array.isArray(value))) this.fail(key, 'an object');
    return new Reader(this.file, `${this.where}${key}.`, this.has(key) ? value as Record<string, unknown> : {}, this.defaulted);
  }

  raw(key: string): unknown {
    return this.object[key];
  }

  /** Records that an absent key took `value` (for keys read with raw), and returns it. */
  noteDefault<T>(key: string, value: T): T {
    this.defaulted.push(`${this.where}${key} = ${JSON.stringify(value)}`);
    return value;
  }

  /** Fails a check across keys; names the keys that took defaults, which may be the cause. */
  failWith(key: string, expected: string): never {
    throw new CheckpointError(`${this.file}: ${this.where}${key} must be ${expected}, got ${JSON.stringify(this.object[key])}${noteOfDefaults(this.defaulted)}`);
  }
}

/**
 * Defaults of transformers' Qwen3_5TextConfig (configuration_qwen3_5.py) for keys a config
 * leaves out. The rotary ones live elsewhere upstream: rope_theta falls back to the
 * PreTrainedConfig rotary mixin's default_theta (10,000; Qwen3.5 does not override it),
 * partial_rotary_factor to 0.25 (set in Qwen3_5TextConfig.__post_init__) and mrope_section
 * to [11, 11, 10] (Qwen3_5TextRotaryEmbedding).
 */
export const TEXT_DEFAULTS = {
  vocab_size: 248_320, hidden_size: 4096, intermediate_size: 12_288, num_hidden_layers: 32,
  num_attention_heads: 16, num_key_value_heads: 4, head_dim: 256, attention_bias: false,
  rms_norm_eps: 1e-6, max_position_embeddings: 32_768, tie_word_embeddings: false,
  linear_conv_kernel_dim: 4, linear_key_head_dim: 128, linear_value_head_dim: 128,
  linear_num_key_heads: 16, linear_num_value_heads: 32, full_attention_interval: 4,
  rope_theta: 10_000, partial_rotary_factor: 0.25, mrope_section: [11, 11, 10],
} as const;

/** Defaults of transformers' Qwen3_5VisionConfig. */
const VISION_DEFAULTS = {
  depth: 27, hidden_size: 1152, intermediate_size: 4304, num_heads: 16, in_channels: 3,
  patch_size: 16, spatial_merge_size: 2, temporal_patch_size: 2, out_hidden_size: 3584,
  num_position_embeddings: 2304,
} as const;

/** Defaults of transformers' Qwen3_5Config (the top level). */
const MODEL_DEFAULTS = {
  image_token_id: 248_056, video_token_id: 248_057, vision_start_token_id: 248_053, vision_end_token_id: 248_054,
} as const;

/** `topTie`: the top level's tie_word_embeddings, when config.json gives one. */
function readText(r: Reader, topTie: boolean | undefined): TextConfig {
  const d = TEXT_DEFAULTS;
  // Either level may say the LM head is the embedding table; absent at both, it is not.
  const textTie = r.has('tie_word_embeddings') ? r.bool('tie_word_embeddings', false) : undefined;
  const tie = textTie === undefined && topTie === undefined ? r.bool('tie_word_embeddings', d.tie_word_embeddings) : textTie === true || topTie === true;
  const numLayers = r.int('num_hidden_layers', d.num_hidden_layers);
  let layerTypes: LayerType[];
  if (!r.has('layer_types')) {
    const interval = r.int('full_attention_interval', d.full_attention_interval);
    layerTypes = Array.from({ length: numLayers }, (_, i) => ((i + 1) % interval ? 'linear_attention' : 'full_attention'));
  } else {
    const rawTypes = r.raw('layer_types');
    if (!Array.isArray(rawTypes) || rawTypes.length !== numLayers || !rawTypes.every((t) => t === 'linear_attention' || t === 'full_attention')) {
      r.failWith('layer_types', `${numLayers} entries of "linear_attention" or "full_attention"`);
    }
    layerTypes = rawTypes as LayerType[];
  }
  // Rotary keys: inside rope_parameters, or (older configs) at the top of text_config.
  const rope = r.child('rope_parameters');
  const legacy = (key: 'rope_theta' | 'partial_rotary_factor') => rope.has(key) || !r.has(key) ? undefined : r.number(key);
  const ropeTheta = legacy('rope_theta') ?? rope.number('rope_theta', d.rope_theta);
  const partialRotaryFactor = legacy('partial_rotary_factor') ?? rope.number('partial_rotary_factor', d.partial_rotary_factor);
  const section = rope.has('mrope_section') ? rope.raw('mrope_section') : rope.noteDefault('mrope_section', [...d.mrope_section]);
  if (!Array.isArray(section) || section.length !== 3 || !section.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    rope.failWith('mrope_section', 'three non-negative integers');
  }
  const headDim = r.int('head_dim', d.head_dim);
  const text: TextConfig = {
    vocabSize: r.int('vocab_size', d.vocab_size),
    hiddenSize: r.int('hidden_size', d.hidden_size),
    intermediateSize: r.int('intermediate_size', d.intermediate_size),
    numLayers,
    layerTypes,
    numAttentionHeads: r.int('num_attention_heads', d.num_attention_heads),
    numKeyValueHeads: r.int('num_key_value_heads', d.num_key_value_heads),
    headDim,
    attentionBias: r.bool('attention_bias', d.attention_bias),
    rmsNormEps: r.number('rms_norm_eps', d.rms_norm_eps),
    ropeTheta,
    partialRotaryFactor,
    mropeSection: section as [number, number, number],
    maxPositionEmbeddings: r.int('max_position_embeddings', d.max_position_embeddings),
    linearNumKeyHeads: r.int('linear_num_key_heads', d.linear_num_key_heads),
    linearNumValueHeads: r.int('linear_num_value_heads', d.linear_num_value_heads),
    linearKeyHeadDim: r.int('linear_key_head_dim', d.linear_key_head_dim),
    linearValueHeadDim: r.int('linear_value_head_dim', d.linear_value_head_dim),
    linearConvKernel: r.int('linear_conv_kernel_dim', d.linear_conv_kernel_dim),
    tieWordEmbeddings: tie,
  };
  // ONNX Runtime's MRotaryEmbedding needs the sections to cover the rotary half exactly
  // (upstream only slices by them); every published Qwen3.5 config does.
  const rotary = Math.round(headDim * partialRotaryFactor);
  if ((section as number[]).reduce((a, b) => a + b, 0) * 2 !== rotary) {
    rope.failWith('mrope_section', `sections summing to half the rotary dimension (${rotary / 2})`);
  }
  if (text.numAttentionHeads % text.numKeyValueHeads !== 0) r.failWith('num_key_value_heads', `a divisor of num_attention_heads (${text.numAttentionHeads})`);
  if (text.linearNumValueHeads % text.linearNumKeyHeads !== 0) r.failWith('linear_num_key_heads', `a divisor of linear_num_value_heads (${text.linearNumValueHeads})`);
  return text;
}

function readVision(r: Reader): VisionConfig {
  const d = VISION_DEFAULTS;
  return {
    depth: r.int('depth', d.depth),
    hiddenSize: r.int('hidden_size', d.hidden_size),
    intermediateSize: r.int('intermediate_size', d.intermediate_size),
    numHeads: r.int('num_heads', d.num_heads),
    inChannels: r.int('in_channels', d.in_channels),
    patchSize: r.int('patch_size', d.patch_size),
    temporalPatchSize: r.int('temporal_patch_size', d.temporal_patch_size),
    spatialMergeSize: r.int('spatial_merge_size', d.spatial_merge_size),
    outHiddenSize: r.int('out_hidden_size', d.out_hidden_size),
    numPositionEmbeddings: r.int('num_position_embeddings', d.num_position_embeddings),
  };
}

/** ` (absent from config.json, so the Hugging Face defaults: …)` when keys were defaulted, else ''. */
export function defaultsNote(config: ModelConfig): string {
  return noteOfDefaults(config.defaulted);
}

function noteOfDefaults(defaulted: string[]): string {
  return defaulted.length ? ` (absent from config.json, so the Hugging Face defaults: ${defaulted.join(', ')})` : '';
}

export async function readModelConfig(checkpointDir: string): Promise<ModelConfig> {
  const file = join(checkpointDir, 'config.json');
  const json = await readJsonObject(file, (message) => new CheckpointError(message));
  if (!json) throw new CheckpointError(`${file}: missing (is ${checkpointDir} a Hugging Face checkpoint folder?)`);
  checkConfigSize(file, json); // before anything is built from the sizes
  const root = new Reader(file, '', json, []);
  const modelType = root.raw('model_type');
  if (typeof modelType !== 'string' || !SUPPORTED_MODEL_TYPES.includes(modelType)) {
    throw new CheckpointError(`${file}: model_type ${JSON.stringify(modelType)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  const d = MODEL_DEFAULTS;
  const config: ModelConfig = {
    modelType: 'qwen3_5',
    text: readText(root.child('text_config'), root.has('tie_word_embeddings') ? root.bool('tie_word_embeddings', false) : undefined),
    vision: readVision(root.child('vision_config')),
    imageTokenId: root.int('image_token_id', d.image_token_id),
    videoTokenId: root.int('video_token_id', d.video_token_id),
    visionStartTokenId: root.int('vision_start_token_id', d.vision_start_token_id),
    visionEndTokenId: root.int('vision_end_token_id', d.vision_end_token_id),
    defaulted: root.defaulted,
  };
  if (config.vision.outHiddenSize !== config.text.hiddenSize) {
    throw new CheckpointError(`${file}: vision_config.out_hidden_size (${config.vision.outHiddenSize}) must equal text_config.hidden_size (${config.text.hiddenSize})${defaultsNote(config)}`);
  }
  return config;
}

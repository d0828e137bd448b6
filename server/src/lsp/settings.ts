/** Maps the client's `videoScan.*` configuration onto the language service's settings. */
import { normalizeSettings, type VscanSettings } from '../language';
import type { SamplingOptions } from '../video/plan';
import type { EngineSettings } from './jobs';
import { DEFAULT_MODEL } from '../model/acquire/modelSpec';
import { WEIGHTS_CHOICES, type WeightsChoice } from '../model/graph/quantizedWeights';
import { KV_CACHE_CHOICES, type KvCacheChoice } from '../model/runtime/runtime';

/** The `videoScan` configuration section as VS Code sends it (see package.json). */
export interface VideoScanConfiguration {
  diagnostics?: { severity?: unknown; rangeTolerance?: unknown; overlapTolerance?: unknown };
  format?: { timeStyle?: unknown };
  ffprobe?: { path?: unknown };
  ffmpeg?: { path?: unknown };
  model?: { checkpoint?: unknown; path?: unknown; executionProvider?: unknown; precision?: unknown; weights?: unknown; kvCache?: unknown; threads?: unknown; maxNewTokens?: unknown };
  video?: { fps?: unknown; minFrames?: unknown; maxFrames?: unknown; maxPixels?: unknown; window?: unknown; overlap?: unknown };
}

export interface ServerSettings {
  language: VscanSettings;
  ffprobePath: string | undefined;
  ffmpegPath: string | undefined;
  /** The model: a Hub id (`owner/name[@revision]`) or a checkpoint folder. */
  model: string;
  executionProvider: 'auto' | 'cuda' | 'webgpu' | 'cpu';
  precision: 'auto' | 'fp32' | 'fp16';
  /** The linear layers' weights: as stored (bf16) or quantized (int8, int4). */
  weights: WeightsChoice;
  /** The K/V cache of the full-attention layers: float or 8-bit (`auto`: 8-bit on the CPU for large models). */
  kvCache: KvCacheChoice;
  /** Threads per ONNX Runtime operator; unset: its default (all physical cores). */
  threads: number | undefined;
  maxNewTokens: number;
  /** Overrides of the training sampling defaults (unset: the defaults). */
  sampling: Partial<Pick<SamplingOptions, 'fps' | 'minFrames' | 'maxFrames' | 'maxPixels'>>;
  /** Long videos: window length and overlap in seconds (unset: FPS_MAX_FRAMES / FPS and 10). */
  window: number | undefined;
  overlap: number | undefined;
}

function positive(value: unknown, integer: boolean): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)) ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/**
 * `videoScan.model.checkpoint`, falling back to the deprecated `videoScan.model.path` while
 * the checkpoint is unset or at its default (VS Code sends defaults, so the default cannot
 * be told from "unset").
 */
function modelSetting(checkpoint: unknown, path: unknown): string {
  const chosen = typeof checkpoint === 'string' ? checkpoint.trim() : '';
  const legacy = typeof path === 'string' ? path.trim() : '';
  if (chosen && chosen !== DEFAULT_MODEL) return chosen;
  return legacy || DEFAULT_MODEL;
}

export function readServerSettings(raw: unknown): ServerSettings {
  const config = (raw && typeof raw === 'object' ? raw : {}) as VideoScanConfiguration;
  const diagnostics = config.diagnostics ?? {};
  const ep = config.model?.executionProvider;
  const precision = config.model?.precision;
  const video = config.video ?? {};
  const sampling: ServerSettings['sampling'] = {};
  const fps = positive(video.fps, false);
  const minFrames = positive(video.minFrames, true);
  const maxFrames = positive(video.maxFrames, true);
  const maxPixels = positive(video.maxPixels, true);
  if (fps !== undefined) sampling.fps = fps;
  if (minFrames !== undefined) sampling.minFrames = minFrames;
  if (maxFrames !== undefined) sampling.maxFrames = maxFrames;
  if (maxPixels !== undefined) sampling.maxPixels = maxPixels;
  return {
    language: normalizeSettings({
      severity: diagnostics.severity,
      rangeTolerance: diagnostics.rangeTolerance,
      overlapTolerance: diagnostics.overlapTolerance,
      timeStyle: config.format?.timeStyle,
    }),
    ffprobePath: text(config.ffprobe?.path),
    ffmpegPath: text(config.ffmpeg?.path),
    model: modelSetting(config.model?.checkpoint, config.model?.path),
    executionProvider: ep === 'cuda' || ep === 'webgpu' || ep === 'cpu' ? ep : 'auto',
    precision: precision === 'fp32' || precision === 'fp16' ? precision : 'auto',
    weights: (WEIGHTS_CHOICES as readonly unknown[]).includes(config.model?.weights) ? (config.model?.weights as WeightsChoice) : 'auto',
    kvCache: (KV_CACHE_CHOICES as readonly unknown[]).includes(config.model?.kvCache) ? (config.model?.kvCache as KvCacheChoice) : 'auto',
    threads: positive(config.model?.threads, true),
    maxNewTokens: positive(config.model?.maxNewTokens, true) ?? 2048,
    sampling,
    window: positive(video.window, false),
    overlap: typeof video.overlap === 'number' && Number.isFinite(video.overlap) && video.overlap >= 0 ? video.overlap : undefined,
  };
}

/** What the model jobs need from the settings (a change reloads the engine). */
export function engineSettings(settings: ServerSettings): EngineSettings {
  return { model: settings.model, executionProvider: settings.executionProvider, precision: settings.precision, weights: settings.weights, kvCache: settings.kvCache, threads: settings.threads };
}

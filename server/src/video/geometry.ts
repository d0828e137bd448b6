/** Reads the vision geometry (patch sizes, mean/std) from a checkpoint's preprocessor config. */
import { join } from 'node:path';
import { readJsonObject } from '../io/json';
import { DEFAULT_GEOMETRY, type VisionGeometry } from './plan';

export class CheckpointConfigError extends Error {
  override name = 'CheckpointConfigError';
}

function positiveInteger(file: string, config: Record<string, unknown>, key: string, fallback: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1024) {
    throw new CheckpointConfigError(`${file}: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function triple(file: string, config: Record<string, unknown>, key: string, fallback: [number, number, number]): [number, number, number] {
  const value = config[key] ?? fallback;
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new CheckpointConfigError(`${file}: ${key} must be three numbers, got ${JSON.stringify(value)}`);
  }
  if (key === 'image_std' && value.some((v) => v === 0)) throw new CheckpointConfigError(`${file}: image_std must not contain 0`);
  return value as [number, number, number];
}

/**
 * The geometry from `video_preprocessor_config.json`, else `preprocessor_config.json`,
 * else the Qwen3-VL defaults (patch 16, temporal 2, merge 2, mean/std 0.5).
 */
export async function readVisionGeometry(checkpointDir: string): Promise<VisionGeometry> {
  for (const name of ['video_preprocessor_config.json', 'preprocessor_config.json']) {
    const file = join(checkpointDir, name);
    const c = await readJsonObject(file, (message) => new CheckpointConfigError(message));
    if (!c) continue;
    return {
      patchSize: positiveInteger(file, c, 'patch_size', DEFAULT_GEOMETRY.patchSize),
      temporalPatchSize: positiveInteger(file, c, 'temporal_patch_size', DEFAULT_GEOMETRY.temporalPatchSize),
      mergeSize: positiveInteger(file, c, 'merge_size', DEFAULT_GEOMETRY.mergeSize),
      imageMean: triple(file, c, 'image_mean', DEFAULT_GEOMETRY.imageMean),
      imageStd: triple(file, c, 'image_std', DEFAULT_GEOMETRY.imageStd),
    };
  }
  return DEFAULT_GEOMETRY;
}

/**
 * The messages between the engine host (language server or CLI) and the engine process.
 * One discriminated union per direction, keyed on `type`, imported by both sides.
 */
import type { FindResult } from '../../tasks/parse';
import type { FindCandidate, TaskProgress } from '../../tasks/videoTasks';
import type { WindowCaption } from '../../tasks/windows';
import type { SamplingOptions } from '../../video/plan';
import type { GenerateOptions, GenerateResult } from './engine';
import type { LoadStage, RuntimeOptions, SessionReport } from './runtime';

/** A caption or find over a video file, run entirely in the engine process. */
export interface VideoTaskRequest {
  task: 'caption' | 'find';
  video: string;
  /** The event to find. */
  query?: string;
  sampling: SamplingOptions;
  maxNewTokens?: number;
  prompt?: string;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Long videos: window length and overlap in seconds (defaults: FPS_MAX_FRAMES / FPS, 10). */
  window?: number;
  overlap?: number;
  /** Find only: look in this stretch of the video (seconds), not the whole of it (a library search grounding a candidate). */
  within?: { start: number; end: number };
  /** false: the stages in turn instead of overlapped (`--no-pipeline`). */
  pipeline?: boolean;
}

/** Caption: the windows (one for a short video), each with its scene and source-time events. */
export type VideoTaskResult =
  | { task: 'caption'; windows: WindowCaption[]; merged: number; format_ok: boolean; raw: string }
  | ({ task: 'find' } & FindResult & { candidates: FindCandidate[] });

/** Generation options that cross the process boundary (no callbacks, no signals). */
export type RemoteGenerateOptions = Omit<GenerateOptions, 'onToken' | 'onLogits' | 'signal' | 'visual'> & {
  visual?: { embeds: number[]; index: number[] };
};

/** Host → engine. */
export type ToEngine =
  /** Load a checkpoint (replacing any loaded one); its stages stream back as `loadProgress`. */
  | { type: 'load'; id: number; dir: string; options: Omit<RuntimeOptions, 'onLoadProgress' | 'probeAdapter'> }
  /** Generate from token ids; tokens stream back as `token` messages. */
  | { type: 'generate'; id: number; promptIds: number[]; options: RemoteGenerateOptions }
  /** Caption or find over a video; progress and partial text stream back. */
  | { type: 'videoTask'; id: number; request: VideoTaskRequest }
  /** Tokenize a chat prompt with the loaded checkpoint's template. */
  | { type: 'encodeChat'; id: number; prompt: string }
  /** Stop request `target` between steps. */
  | { type: 'cancel'; target: number };

/** Engine → host. */
export type FromEngine =
  | { type: 'loaded'; id: number; report: SessionReport }
  /** A load moving through its stages (quantizing the weights, the first time, takes minutes). */
  | { type: 'loadProgress'; id: number; stage: LoadStage; detail: string }
  | { type: 'encoded'; id: number; ids: number[] }
  | { type: 'token'; id: number; token: number; text: string }
  | { type: 'progress'; id: number; progress: TaskProgress }
  | { type: 'taskDone'; id: number; result: VideoTaskResult }
  | { type: 'done'; id: number; result: GenerateResult }
  | { type: 'error'; id: number; message: string; cancelled?: boolean };

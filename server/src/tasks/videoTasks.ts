/**
 * Caption, Find and raw generation over a video: prepare the frames exactly as trained,
 * encode them with the vision tower, build the video prompt, and generate with the text
 * decoder, reporting progress by stage and honouring cancellation.
 */
import type * as ort from 'onnxruntime-node';
import * as ortRuntime from 'onnxruntime-node';
import { type GenerateOptions, TextEngine } from '../model/runtime/engine';
import { createSession, type ExecutionProvider, type RuntimeOptions, type SessionReport } from '../model/runtime/runtime';
import { buildVisionEncoder, visionAuxiliaries } from '../model/graph/visionEncoder';
import type { PreparedVideo } from '../video/pipeline';
import type { PixelValues } from '../video/preprocess';
import { WindowLookahead, WindowPreparation } from './lookahead';
import type { SamplingOptions, VisionGeometry } from '../video/plan';
import { type CaptionEvent, type CaptionResult, type FindResult, parseCaption, parseFind } from './parse';
import { readPrompts, type TaskPrompts } from './prompts';
import { probeVideo, type VideoProbe } from '../video/probe';
import { withTimeOrigin } from '../video/plan';
import { mergeWindowEvents, planWindows, type TimeWindow, type WindowCaption } from './windows';
import { buildVideoPrompt, type VideoPrompt } from './videoPrompt';
import { modelToPresentation } from '../video/presentation';

/**
 * The function that takes a time the model answered in this run to presentation time in
 * the whole video (the run's window origin added back, VFR frames placed when they play).
 */
export function sourceTimes(run: Pick<VideoTaskRun, 'prepared'>, originSec: number): (modelSec: number) => number {
  return modelToPresentation(run.prepared.plan, run.prepared.presentationSec, originSec);
}

/** A caption's events in presentation time (see sourceTimes). */
export function eventsInSourceTime(events: readonly CaptionEvent[], toSource: (modelSec: number) => number): CaptionEvent[] {
  return events.map((e) => ({ start: toSource(e.start), end: toSource(e.end), description: e.description }));
}

export type TaskStage = 'probing' | 'decoding' | 'encoding' | 'generating';

export interface TaskProgress {
  stage: TaskStage;
  done: number;
  total: number;
  /** While encoding runs beside decoding: the frames decoded and resized so far, of all. */
  decoded?: { done: number; total: number };
}

export interface VideoTaskOptions extends Pick<GenerateOptions, 'maxNewTokens' | 'doSample' | 'temperature' | 'topP' | 'seed'> {
  sampling: SamplingOptions;
  onProgress?: (progress: TaskProgress) => void;
  onText?: (text: string) => void;
  signal?: AbortSignal;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Frame pairs per vision-tower run (memory vs. overhead; default 4). */
  pairsPerRun?: number;
  /** Show the model times from this origin (a window's start) instead of 0. */
  timeOrigin?: number;
  /** The video's probe when the caller has it (windows of one video share one). */
  probe?: VideoProbe;
  /**
   * Overlap the stages: encode frame pairs as they arrive, and prepare a long video's next
   * window while the model runs this one (by default only where the model runs on a GPU:
   * `looksAhead`). false runs each stage after the one before (the benchmark's baseline; an
   * escape hatch); the results are the same.
   */
  pipeline?: boolean;
  /** This run's frames, already being prepared (a window prepared ahead). */
  preparation?: WindowPreparation;
  /**
   * Keep the frames and pixel values in the run's `prepared` (for `--dump`). By default they
   * are let go once the vision tower has encoded them, before prefill: a 2-minute clip's
   * pixel values are 0.5 GiB that prefill and decoding never read (issue 14, item 5).
   */
  keepPixels?: boolean;
}

/** The options for one window of a long video: sample only it, and show it from time 0. */
function inWindow<T extends VideoTaskOptions>(options: T, window: TimeWindow): T {
  return { ...options, sampling: { ...options.sampling, start: window.start, end: window.end }, timeOrigin: window.start };
}

export interface LongVideoOptions {
  /** Window length in seconds (default FPS_MAX_FRAMES / FPS: what the model sees at full density). */
  window?: number;
  /** Seconds shared by neighbouring windows (default 10). */
  overlap?: number;
}

export interface LongCaption {
  windows: WindowCaption[];
  merged: number;
  format_ok: boolean;
  raw: string;
  /** The first window's run (its exact inputs, for --dump); later runs are not kept (each holds its pixel values). */
  firstRun: VideoTaskRun;
  /** Per window: the video stages' and the model stages' milliseconds. */
  timings: { video: PreparedVideo['timings']; model: VideoTaskRun['timings'] }[];
  /**
   * The whole caption's milliseconds: stages summed over windows (and the first probe), wall
   * time, and their difference (how much ran at once; not the time saved, since stages that
   * share the cores slow each other: that is the wall time against `pipeline: false`'s).
   */
  wall: StageSum;
}

/** How much of the stages' time overlapped: overlap = stages − wall. */
export interface StageSum {
  stagesMs: number;
  wallMs: number;
  overlapMs: number;
}

/** The milliseconds of one run's stages, video and model. */
function stageMs(video: PreparedVideo['timings'], model: VideoTaskRun['timings']): number {
  return video.probe + video.plan + video.decodeAndResize + video.patchify + model.vision + model.prompt + model.prefill + model.decode;
}

/** What the vision tower reads: pixel values, and (while frames still arrive) a wait for the first `count` pairs. */
export interface EncoderInput {
  pixelValues: PixelValues;
  ready?(count: number): Promise<void>;
}

export interface FindCandidate {
  window: TimeWindow;
  span: [number, number] | null;
  format_ok: boolean;
}

export interface LongFind extends FindResult {
  candidates: FindCandidate[];
}

export interface VideoTaskRun {
  raw: string;
  prompt: VideoPrompt;
  prepared: PreparedVideo;
  /** Logits of the first generated position (for --dump). */
  firstLogits: Float32Array;
  /**
   * Milliseconds in the model stages (the video stages are in prepared.timings): vision is
   * the tower's own runs, not the time it waited for frames.
   */
  timings: { vision: number; prompt: number; prefill: number; decode: number; tokens: number };
}

export class VideoModel {
  private constructor(
    readonly text: TextEngine,
    readonly vision: ort.InferenceSession,
    /** Where the vision tower runs: the text model's provider and precision. */
    readonly visionReport: SessionReport,
    readonly prompts: TaskPrompts & { source: string },
  ) {}

  static async load(dir: string, options: RuntimeOptions = {}): Promise<VideoModel> {
    const text = await TextEngine.load(dir, options);
    // The vision tower runs where the text model runs, at its precision, with its weights.
    const { session, report } = await createSession(text.checkpoint, (location, precision, target, quantized) => buildVisionEncoder(text.checkpoint, location, precision, target.attention, quantized), 'vision-encoder', {
      ...options,
      executionProvider: text.report.executionProvider,
      precision: text.report.precision,
      weights: text.report.weights,
    });
    return new VideoModel(text, session, report, await readPrompts(dir));
  }

  get geometry(): VisionGeometry {
    const v = this.text.checkpoint.config.vision;
    return { patchSize: v.patchSize, temporalPatchSize: v.temporalPatchSize, mergeSize: v.spatialMergeSize, imageMean: [0.5, 0.5, 0.5], imageStd: [0.5, 0.5, 0.5] };
  }

  /**
   * Vision features for every merged token, in prompt order: [tokens × hidden]. With
   * `ready` (frames still arriving, FramePairs), each run waits only for its own pairs.
   */
  async encode(source: EncoderInput, options: Pick<VideoTaskOptions, 'onProgress' | 'signal' | 'pairsPerRun'> = {}): Promise<Float32Array> {
    return (await this.encodeTimed(source, options)).features;
  }

  private async encodeTimed(source: EncoderInput, options: Pick<VideoTaskOptions, 'onProgress' | 'signal' | 'pairsPerRun'>): Promise<{ features: Float32Array; visionMs: number }> {
    const v = this.text.checkpoint.config.vision;
    const [pairs, gh, gw] = source.pixelValues.gridThw;
    const S = gh * gw;
    const columns = source.pixelValues.columns;
    const aux = visionAuxiliaries(v, gh, gw);
    const headDim = v.hiddenSize / v.numHeads;
    const fixed = {
      pos_index: new ortRuntime.Tensor('int64', aux.posIndex, [S, 4]),
      pos_weight: new ortRuntime.Tensor('float32', aux.posWeight, [S, 4]),
      cos: new ortRuntime.Tensor('float32', aux.cos, [S, headDim]),
      sin: new ortRuntime.Tensor('float32', aux.sin, [S, headDim]),
    };
    const perRun = Math.max(1, options.pairsPerRun ?? 4);
    const tokensPerPair = S / (v.spatialMergeSize ** 2);
    const out = new Float32Array(pairs * tokensPerPair * v.outHiddenSize);
    let visionMs = 0;
    for (let first = 0; first < pairs; first += perRun) {
      if (options.signal?.aborted) throw new Error('cancelled');
      const count = Math.min(perRun, pairs - first);
      await source.ready?.(first + count);
      if (options.signal?.aborted) throw new Error('cancelled');
      const pixels = source.pixelValues.data.subarray(first * S * columns, (first + count) * S * columns);
      const started = performance.now();
      const result = await this.vision.run({ ...fixed, pixel_values: new ortRuntime.Tensor('float32', pixels, [count, S, columns]) });
      visionMs += performance.now() - started;
      out.set(result.features.data as Float32Array, first * tokensPerPair * v.outHiddenSize);
      options.onProgress?.({ stage: 'encoding', done: first + count, total: pairs });
    }
    return { features: out, visionMs };
  }

  /** Starts preparing a video's frames for this model (the options' window, sampling and tools). */
  prepare(videoFile: string, options: VideoTaskOptions): WindowPreparation {
    return new WindowPreparation(videoFile, {
      sampling: options.sampling,
      geometry: this.geometry,
      ffmpegPath: options.ffmpegPath,
      ffprobePath: options.ffprobePath,
      signal: options.signal,
      probe: options.probe,
    });
  }

  async run(videoFile: string, instruction: string, options: VideoTaskOptions): Promise<VideoTaskRun> {
    options.onProgress?.({ stage: 'probing', done: 0, total: 1 });
    const own = options.preparation ? undefined : this.prepare(videoFile, options);
    const frames = options.preparation ?? own!;
    try {
      return await this.runPrepared(frames, instruction, options);
    } catch (error) {
      // The decoder and resizers of a run that failed end with it (a window prepared ahead is stopped by its owner).
      await own?.stop();
      throw error;
    }
  }

  private async runPrepared(frames: WindowPreparation, instruction: string, options: VideoTaskOptions): Promise<VideoTaskRun> {
    // Progress stays one line when the stages overlap: once the tower runs, decoded frames ride along with its count.
    let encoded: { done: number; total: number } | undefined;
    let decoded = { done: 0, total: 0 };
    frames.show((done, total) => {
      decoded = { done, total };
      options.onProgress?.(encoded ? { stage: 'encoding', ...encoded, decoded } : { stage: 'decoding', done, total });
    });
    const pipelined = options.pipeline !== false;
    const pairs = await frames.preparation.pairs;
    if (!pipelined) await frames.preparation.prepared;
    const { features, visionMs } = await this.encodeTimed(pipelined ? pairs : { pixelValues: pairs.pixelValues }, {
      ...options,
      onProgress: (progress) => {
        encoded = { done: progress.done, total: progress.total };
        options.onProgress?.(decoded.done < decoded.total ? { ...progress, decoded } : progress);
      },
    });
    const prepared = await frames.preparation.prepared;
    if (!options.keepPixels) releasePixels(prepared);
    const promptStarted = performance.now();
    const prompt = await buildVideoPrompt(this.text.tokenizer, this.text.checkpoint.config, withTimeOrigin(prepared.plan, options.timeOrigin ?? 0), instruction, options.signal);
    const promptMs = performance.now() - promptStarted;
    let firstLogits = new Float32Array(0);
    let generated = 0;
    const maxNewTokens = options.maxNewTokens ?? 2048;
    // The prefill of a long video prompt takes a while: say so before the first token.
    options.onProgress?.({ stage: 'generating', done: 0, total: maxNewTokens });
    const result = await this.text.generate(prompt.ids, {
      positions: prompt.positions,
      ropeDelta: prompt.ropeDelta,
      visual: { embeds: features, index: prompt.videoPadIndex },
      maxNewTokens,
      doSample: options.doSample,
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
      signal: options.signal,
      onLogits: (logits) => { if (!firstLogits.length) firstLogits = logits.slice(); },
      onToken: (_id, text) => {
        options.onText?.(text);
        options.onProgress?.({ stage: 'generating', done: ++generated, total: maxNewTokens });
      },
    });
    return { raw: result.text, prompt, prepared, firstLogits, timings: { vision: visionMs, prompt: promptMs, prefill: result.prefillMs, decode: result.decodeMs, tokens: result.ids.length } };
  }

  async caption(videoFile: string, options: VideoTaskOptions & { prompt?: string }): Promise<CaptionResult & { run: VideoTaskRun }> {
    const run = await this.run(videoFile, options.prompt ?? this.prompts.caption, options);
    return { ...parseCaption(run.raw), run };
  }

  /** Captions a video of any length: one window when it fits, overlapping windows otherwise. */
  async captionLong(videoFile: string, options: VideoTaskOptions & LongVideoOptions & { prompt?: string }): Promise<LongCaption> {
    const started = performance.now();
    const { windows, probe } = await this.windowsFor(videoFile, options);
    const probeMs = performance.now() - started;
    const captions: WindowCaption[] = [];
    const raws: string[] = [];
    const timings: LongCaption['timings'] = [];
    let firstRun: VideoTaskRun | undefined;
    const single = windows.length === 1;
    await this.eachWindow(videoFile, windows, options, (window) => single ? { ...options, probe } : inWindow({ ...options, probe }, window), async (windowOptions, window) => {
      const result = await this.caption(videoFile, windowOptions);
      const toSource = sourceTimes(result.run, single ? 0 : window.start);
      captions.push({
        // The window as written (`Scene <start - end>`) is in presentation time too.
        window: single ? window : { start: toSource(0), end: toSource(window.end - window.start) },
        scene: result.scene || result.caption,
        format_ok: result.format_ok,
        events: eventsInSourceTime(result.events, toSource),
      });
      raws.push(result.raw);
      timings.push({ video: result.run.prepared.timings, model: result.run.timings });
      firstRun ??= result.run;
    });
    const { captions: kept, merged } = mergeWindowEvents(captions);
    const wallMs = performance.now() - started;
    const stagesMs = timings.reduce((sum, t) => sum + stageMs(t.video, t.model), probeMs);
    return { windows: kept, merged, format_ok: kept.every((c) => c.format_ok), raw: raws.join('\n\n'), firstRun: firstRun!, timings, wall: { stagesMs, wallMs, overlapMs: stagesMs - wallMs } };
  }

  /**
   * Runs `body` on each window in turn with that window's frames being prepared: pipelined,
   * the next window's frames are decoded while `body` runs the model on this one (one
   * window ahead at most). Every preparation has stopped, its decoder and resizers gone,
   * before this returns or throws; an error preparing a window surfaces from its own `body`.
   */
  private async eachWindow(videoFile: string, windows: readonly TimeWindow[], options: VideoTaskOptions, optionsFor: (window: TimeWindow) => VideoTaskOptions, body: (options: VideoTaskOptions, window: TimeWindow) => Promise<void>): Promise<void> {
    const lookahead = new WindowLookahead(windows.length, (i) => this.prepare(videoFile, optionsFor(windows[i])), looksAhead(options.pipeline, this.text.report.executionProvider));
    try {
      for (const [i, window] of windows.entries()) await body({ ...optionsFor(window), preparation: lookahead.take(i) }, window);
    } finally {
      await lookahead.stop();
    }
  }

  /**
   * Finds an event in a video of any length: each window is asked first; then the window
   * centred on the best answer is asked again, and its span (in source time) is the result.
   */
  async findLong(videoFile: string, query: string, options: VideoTaskOptions & LongVideoOptions & { prompt?: string }): Promise<LongFind> {
    const { windows, probe } = await this.windowsFor(videoFile, options);
    const inSource = (result: FindResult & { run: VideoTaskRun }, originSec: number): [number, number] | null => {
      const toSource = sourceTimes(result.run, originSec);
      return result.span && [toSource(result.span[0]), toSource(result.span[1])];
    };
    if (windows.length === 1) {
      const { run, ...result } = await this.find(videoFile, query, { ...options, probe });
      const span = inSource({ ...result, run }, 0);
      return { ...result, span, candidates: [{ window: windows[0], span, format_ok: result.format_ok }] };
    }
    // Windows are planned and compared in convention time (index ÷ fps), as they are sampled;
    // only the answers are mapped to presentation time.
    const candidates: FindCandidate[] = [];
    const conventionSpans: ([number, number] | null)[] = [];
    await this.eachWindow(videoFile, windows, options, (window) => inWindow({ ...options, probe }, window), async (windowOptions, window) => {
      const result = await this.find(videoFile, query, windowOptions);
      conventionSpans.push(result.span && [result.span[0] + window.start, result.span[1] + window.start]);
      candidates.push({ window, span: inSource(result, window.start), format_ok: result.format_ok });
    });
    const inside = (i: number) => {
      const span = conventionSpans[i];
      const window = candidates[i].window;
      return span !== null && span[0] >= window.start - 1 && span[1] <= window.end + 1 && span[0] <= span[1];
    };
    const indices = candidates.map((_, i) => i);
    const bestIndex = indices.find((i) => inside(i) && candidates[i].format_ok) ?? indices.find(inside);
    const best = bestIndex === undefined ? undefined : conventionSpans[bestIndex];
    if (!best) return { raw: '', span: null, format_ok: false, candidates };
    const length = windows[0].end - windows[0].start;
    const duration = windows[windows.length - 1].end;
    const middle = (best[0] + best[1]) / 2;
    const start = Math.max(0, Math.min(middle - length / 2, duration - length));
    const focus = { start, end: Math.min(duration, start + length) };
    const final = await this.find(videoFile, query, inWindow({ ...options, probe }, focus));
    const span = inSource(final, focus.start);
    return { raw: final.raw, span: span ?? candidates[bestIndex!].span, format_ok: final.format_ok, candidates: [...candidates, { window: focus, span, format_ok: final.format_ok }] };
  }

  /** Finds an event within one stretch of a video (a library search's candidate): the span in the video's own time. */
  async findWithin(videoFile: string, query: string, within: TimeWindow, options: VideoTaskOptions & { prompt?: string }): Promise<LongFind> {
    const result = await this.find(videoFile, query, inWindow(options, within));
    const toSource = sourceTimes(result.run, within.start);
    const span: [number, number] | null = result.span && [toSource(result.span[0]), toSource(result.span[1])];
    return { raw: result.raw, span, format_ok: result.format_ok, candidates: [{ window: within, span, format_ok: result.format_ok }] };
  }

  /** The video's windows, and its probe (made once here and shared by every window's run). */
  private async windowsFor(videoFile: string, options: VideoTaskOptions & LongVideoOptions): Promise<{ windows: TimeWindow[]; probe: VideoProbe }> {
    const probe = options.probe ?? (await probeVideo(videoFile, { ffprobePath: options.ffprobePath, signal: options.signal }));
    const length = options.window ?? options.sampling.maxFrames / options.sampling.fps;
    return { windows: planWindows(probe.durationSec, length, options.overlap ?? Math.min(10, length / 4)), probe };
  }

  async find(videoFile: string, query: string, options: VideoTaskOptions & { prompt?: string }): Promise<FindResult & { run: VideoTaskRun }> {
    const template = options.prompt ?? this.prompts.find;
    const run = await this.run(videoFile, template.includes('{query}') ? template.replaceAll('{query}', query) : `${template} ${query}`, { ...options, maxNewTokens: options.maxNewTokens ?? 64 });
    return { ...parseFind(run.raw), run };
  }
}

/**
 * Whether a long video's next window is prepared while the model runs this one: as asked
 * (`pipeline`), or by default where the model runs on a GPU, whose wait leaves the CPU's
 * cores to the decoder. On the CPU the model's threads already use every core, and the
 * look-ahead measured 0.76–1.19× the wall time of windows in turn on 2 cores
 * (docs/benchmarks.md, "Overlapped caption pipeline"), so it is not the default there.
 */
export function looksAhead(pipeline: boolean | undefined, provider: ExecutionProvider): boolean {
  return pipeline ?? provider !== 'cpu';
}

/**
 * Lets a prepared video's frames and pixel values go once the vision tower is done with
 * them: emptied in place, because the frame pairs being prepared and the run's `prepared`
 * share the same arrays.
 */
function releasePixels(prepared: PreparedVideo): void {
  prepared.pixelValues.data = new Float32Array(0);
  prepared.frames.length = 0;
}

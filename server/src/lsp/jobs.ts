/**
 * Model jobs for the language server: one at a time (one GPU), in order, with the queue
 * length reported; the engine runs in its own process (EngineHost), loaded lazily from the
 * configured model (a folder, or a Hub model's cached snapshot — never downloaded here: the
 * client asks the user first) and reloaded when the setting changes.
 */
import { EngineHost } from '../model/runtime/engineHost';
import type { VideoTaskRequest, VideoTaskResult } from '../model/runtime/engineProtocol';
import type { ExecutionProviderChoice, KvCacheChoice, PrecisionChoice, WeightsChoice } from '../model/runtime/runtime';
import { describeAdapter } from '../model/runtime/webgpuAdapter';
import type { TaskProgress } from '../tasks/videoTasks';
import type { StatusParams } from './protocol';
import { resolveModelDir } from '../model/acquire/resolveModel';

export interface EngineSettings {
  /** A Hub id (`owner/name[@revision]`) or a checkpoint folder. */
  model: string;
  executionProvider: ExecutionProviderChoice;
  precision: PrecisionChoice;
  weights: WeightsChoice;
  kvCache: KvCacheChoice;
  threads: number | undefined;
}

export class NoModelError extends Error {
  override name = 'NoModelError';
}

function cancelledError(): Error {
  return Object.assign(new Error('cancelled'), { cancelled: true });
}

/**
 * `work`, or a cancelled error as soon as `signal` aborts, whichever comes first. The
 * caller's answer never waits for a step that cannot be interrupted (loading a checkpoint,
 * one ONNX Runtime run); the queue still waits for it, so the next job starts after it.
 */
function answerCancelAtOnce<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelledError());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class JobQueue {
  private readonly host = new EngineHost();
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  private loadedFor: string | undefined;
  /** What the last load got: the provider, the precision and why it fell back (if it did). */
  private loaded: Pick<StatusParams, 'executionProvider' | 'adapter' | 'precision' | 'weights' | 'kvCache' | 'message'> = {};
  private status: StatusParams = { state: 'idle', queue: 0 };

  constructor(private settings: EngineSettings, private readonly report: (status: StatusParams) => void) {
    this.host.onCrash = (reason) => this.publish({ state: 'error', message: reason });
  }

  configure(settings: EngineSettings): void {
    this.settings = settings;
  }

  private publish(change: Partial<StatusParams>): void {
    this.status = { ...this.status, ...change, queue: this.waiting, model: this.settings.model };
    this.report(this.status);
  }

  /** Runs a video task after the jobs before it; a Hub model that is not downloaded fails at once. */
  async run(request: Omit<VideoTaskRequest, 'sampling'> & Pick<VideoTaskRequest, 'sampling'>, options: { onProgress?: (p: TaskProgress) => void; onText?: (text: string) => void; signal?: AbortSignal }): Promise<VideoTaskResult> {
    return this.enqueue(await this.resolveModel(), request, options);
  }

  private enqueue(model: string, request: Omit<VideoTaskRequest, 'sampling'> & Pick<VideoTaskRequest, 'sampling'>, options: { onProgress?: (p: TaskProgress) => void; onText?: (text: string) => void; signal?: AbortSignal }): Promise<VideoTaskResult> {
    this.waiting++;
    this.publish({});
    const job = this.tail.then(async () => {
      this.waiting--;
      if (options.signal?.aborted) throw cancelledError();
      await this.loadEngine(model);
      if (options.signal?.aborted) throw cancelledError(); // cancelled while loading: the model stays loaded for the next job
      this.publish({ state: 'busy' });
      return this.host.videoTask(request, options);
    });
    return answerCancelAtOnce(this.settle(job), options.signal);
  }

  /** Loads the engine for the configured model after the jobs before it (Check GPU); answers the status: provider, precision, fallback reason. */
  async load(): Promise<StatusParams> {
    const model = await this.resolveModel();
    this.waiting++;
    this.publish({});
    return this.settle(this.tail.then(async () => {
      this.waiting--;
      await this.loadEngine(model);
      return { ...this.status, ...this.loaded, state: 'idle' };
    }));
  }

  /** The configured model's folder; a Hub model that is not downloaded fails at once. */
  private async resolveModel(): Promise<string> {
    const spec = this.settings.model;
    if (!spec) throw new NoModelError('No model configured: set videoScan.model.checkpoint to a Hub id (owner/name) or a checkpoint folder');
    try {
      return await resolveModelDir(spec);
    } catch (error) {
      this.publish({ state: 'error', message: (error as Error).message });
      throw error;
    }
  }

  private async loadEngine(model: string): Promise<void> {
    const { executionProvider, precision, weights, kvCache, threads } = this.settings;
    const wanted = `${model}|${executionProvider}|${precision}|${weights}|${kvCache}|${threads ?? ''}`;
    if (this.loadedFor === wanted) return;
    this.publish({ state: 'loading' });
    // Quantizing the weights (the first load of a large model on the CPU) takes minutes: say so.
    const onLoadProgress = (stage: string, detail: string) => { if (stage === 'quantize') this.publish({ state: 'loading', message: detail }); };
    const report = await this.host.load(model, { executionProvider, precision, weights, kvCache, onLoadProgress, ...(threads ? { intraOpThreads: threads } : {}) });
    this.loadedFor = wanted;
    this.loaded = { executionProvider: report.executionProvider, adapter: report.adapter ? describeAdapter(report.adapter) : undefined, precision: report.precision, weights: report.weights, kvCache: report.target.kvCache, message: report.fallbackReason };
    this.publish(this.loaded);
  }

  /** Publishes idle or error when a queued job ends, and keeps the queue going after a failure. */
  private settle<R>(job: Promise<R>): Promise<R> {
    const settled = job.then((result) => {
      this.publish({ state: 'idle' });
      return result;
    }, (error: unknown) => {
      this.publish({ state: (error as { cancelled?: boolean }).cancelled ? 'idle' : 'error', message: error instanceof Error ? error.message : String(error) });
      throw error;
    });
    this.tail = settled.catch(() => undefined);
    return settled;
  }

  dispose(): void {
    this.host.dispose();
  }
}

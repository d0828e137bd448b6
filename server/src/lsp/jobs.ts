/**
 * Model jobs for the language server: one at a time (one GPU), in order, with the queue
 * length reported; the engine runs in its own process (EngineHost), loaded lazily from the
 * configured model (a folder, or a Hub model's cached snapshot — never downloaded here: the
 * client asks the user first) and reloaded when the setting changes.
 */
import { EngineHost } from '../model/runtime/engineHost';
import type { VideoTaskRequest, VideoTaskResult } from '../model/runtime/engineProtocol';
import type { ExecutionProviderChoice, PrecisionChoice } from '../model/runtime/runtime';
import { describeAdapter } from '../model/runtime/webgpuAdapter';
import type { TaskProgress } from '../tasks/videoTasks';
import type { StatusParams } from './protocol';
import { resolveModelDir } from '../model/acquire/resolveModel';

export interface EngineSettings {
  /** A Hub id (`owner/name[@revision]`) or a checkpoint folder. */
  model: string;
  executionProvider: ExecutionProviderChoice;
  precision: PrecisionChoice;
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
    const spec = this.settings.model;
    if (!spec) throw new NoModelError('No model configured: set videoScan.model.checkpoint to a Hub id (owner/name) or a checkpoint folder');
    let model: string;
    try {
      model = await resolveModelDir(spec);
    } catch (error) {
      this.publish({ state: 'error', message: (error as Error).message });
      throw error;
    }
    return this.enqueue(model, request, options);
  }

  private enqueue(model: string, request: Omit<VideoTaskRequest, 'sampling'> & Pick<VideoTaskRequest, 'sampling'>, options: { onProgress?: (p: TaskProgress) => void; onText?: (text: string) => void; signal?: AbortSignal }): Promise<VideoTaskResult> {
    this.waiting++;
    this.publish({});
    const job = this.tail.then(async () => {
      this.waiting--;
      if (options.signal?.aborted) throw cancelledError();
      const { executionProvider, precision, threads } = this.settings;
      const wanted = `${model}|${executionProvider}|${precision}|${threads ?? ''}`;
      if (this.loadedFor !== wanted) {
        this.publish({ state: 'loading' });
        const report = await this.host.load(model, { executionProvider, precision, ...(threads ? { intraOpThreads: threads } : {}) });
        this.loadedFor = wanted;
        this.publish({ executionProvider: report.executionProvider, adapter: report.adapter ? describeAdapter(report.adapter) : undefined, precision: report.precision, message: report.fallbackReason });
      }
      if (options.signal?.aborted) throw cancelledError(); // cancelled while loading: the model stays loaded for the next job
      this.publish({ state: 'busy' });
      return this.host.videoTask(request, options);
    }).then((result) => {
      this.publish({ state: 'idle' });
      return result;
    }, (error: unknown) => {
      this.publish({ state: (error as { cancelled?: boolean }).cancelled ? 'idle' : 'error', message: error instanceof Error ? error.message : String(error) });
      throw error;
    });
    this.tail = job.catch(() => undefined);
    return answerCancelAtOnce(job, options.signal);
  }

  dispose(): void {
    this.host.dispose();
  }
}

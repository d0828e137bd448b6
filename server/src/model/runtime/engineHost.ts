/**
 * The host side of the engine process: starts it on first use, sends typed requests,
 * streams tokens back, cancels, and restarts it after a crash (the request in flight fails
 * with a message saying so; the next request gets a fresh process).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerateResult } from './engine';
import type { TaskProgress } from '../../tasks/videoTasks';
import type { FromEngine, RemoteGenerateOptions, ToEngine, VideoTaskRequest, VideoTaskResult } from './engineProtocol';
import type { RuntimeOptions, SessionReport } from './runtime';

/** A request without its id (the host assigns ids). */
type Request = Exclude<ToEngine, { type: 'cancel' }> extends infer M ? (M extends unknown ? Omit<M, 'id'> : never) : never;

export class EngineCrashedError extends Error {
  override name = 'EngineCrashedError';
}

interface Pending {
  resolve: (message: FromEngine) => void;
  reject: (error: Error) => void;
  onToken?: (token: number, text: string) => void;
  onProgress?: (progress: TaskProgress) => void;
  onLoadProgress?: RuntimeOptions['onLoadProgress'];
}

/** dist/engine.js beside this bundle, or the TypeScript source under tsx (tests). */
function engineEntry(): { module: string; execArgv: string[] } {
  const built = join(__dirname, 'engine.js');
  if (existsSync(built)) return { module: built, execArgv: [] };
  return { module: join(__dirname, 'engineProcess.ts'), execArgv: ['--import', 'tsx'] };
}

export class EngineHost {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private loaded: { dir: string; options: RuntimeOptions } | undefined;
  /** Called when the engine process exits unexpectedly. */
  onCrash?: (reason: string) => void;

  private start(): ChildProcess {
    const { module, execArgv } = engineEntry();
    const child = fork(module, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => { stderr = (stderr + text).slice(-4000); });
    child.on('message', (message: FromEngine) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      if (message.type === 'token') return waiter.onToken?.(message.token, message.text);
      if (message.type === 'progress') return waiter.onProgress?.(message.progress);
      if (message.type === 'loadProgress') return waiter.onLoadProgress?.(message.stage, message.detail);
      this.pending.delete(message.id);
      if (message.type === 'error') waiter.reject(Object.assign(new Error(message.message), { cancelled: message.cancelled === true }));
      else waiter.resolve(message);
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      const reason = `the model engine stopped (${signal ?? `exit code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`;
      for (const waiter of this.pending.values()) waiter.reject(new EngineCrashedError(reason));
      this.pending.clear();
      this.onCrash?.(reason);
    });
    this.child = child;
    return child;
  }

  private request(message: Request, onToken?: Pending['onToken'], onProgress?: Pending['onProgress']): { id: number; done: Promise<FromEngine> } {
    const id = this.nextId++;
    const child = this.child ?? this.start();
    const done = new Promise<FromEngine>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onToken, onProgress });
      child.send({ ...message, id } as ToEngine);
    });
    return { id, done };
  }

  /**
   * Loads a checkpoint; remembered, so a restarted engine reloads it on the next request.
   * `onLoadProgress` stays here (functions do not cross to the process); its stages come back.
   */
  async load(dir: string, options: RuntimeOptions = {}): Promise<SessionReport> {
    const { onLoadProgress, probeAdapter: _probe, ...sent } = options;
    const pending = this.request({ type: 'load', dir, options: sent });
    const waiter = this.pending.get(pending.id);
    if (waiter) waiter.onLoadProgress = onLoadProgress;
    const reply = await pending.done;
    this.loaded = { dir, options };
    return (reply as Extract<FromEngine, { type: 'loaded' }>).report;
  }

  private async ensureLoaded(): Promise<void> {
    if (this.child || !this.loaded) return;
    await this.load(this.loaded.dir, this.loaded.options);
  }

  async encodeChat(prompt: string): Promise<number[]> {
    await this.ensureLoaded();
    const reply = await this.request({ type: 'encodeChat', prompt }).done;
    return (reply as Extract<FromEngine, { type: 'encoded' }>).ids;
  }

  async generate(promptIds: number[], options: RemoteGenerateOptions & { onToken?: (token: number, text: string) => void; signal?: AbortSignal } = {}): Promise<GenerateResult> {
    await this.ensureLoaded();
    const { onToken, signal, ...remote } = options;
    const { id, done } = this.request({ type: 'generate', promptIds, options: remote }, onToken);
    const onAbort = () => this.child?.send({ type: 'cancel', target: id } satisfies ToEngine);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return ((await done) as Extract<FromEngine, { type: 'done' }>).result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Caption or find over a video in the engine process. */
  async videoTask(request: VideoTaskRequest, options: { onText?: (text: string) => void; onProgress?: (progress: TaskProgress) => void; signal?: AbortSignal } = {}): Promise<VideoTaskResult> {
    await this.ensureLoaded();
    const { id, done } = this.request({ type: 'videoTask', request }, (_token, text) => options.onText?.(text), options.onProgress);
    const onAbort = () => this.child?.send({ type: 'cancel', target: id } satisfies ToEngine);
    if (options.signal?.aborted) onAbort(); // aborted while loading: an 'abort' event will not come again
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return ((await done) as Extract<FromEngine, { type: 'taskDone' }>).result;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The checkpoint folder loaded (or to reload after a crash). */
  get loadedDir(): string | undefined {
    return this.loaded?.dir;
  }

  /** The engine's process id (tests use it to simulate a crash). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  dispose(): void {
    const child = this.child;
    this.child = undefined;
    child?.kill();
  }
}

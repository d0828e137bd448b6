/**
 * Frame preparation that runs ahead of the model: a window's frames are decoded and
 * resized while the model still works on the window before it. At most one window is
 * prepared ahead, so memory holds two windows' frames at most, however long the video.
 */
import { type PrepareOptions, startVideo, type VideoPreparation } from '../video/pipeline';

/** One window's preparation: started now, its progress held until the window is shown, stoppable. */
export class WindowPreparation {
  readonly preparation: VideoPreparation;
  private readonly controller = new AbortController();
  private listener: ((done: number, total: number) => void) | undefined;
  private last: [number, number] | undefined;
  private readonly unlink: () => void;

  constructor(file: string, options: Omit<PrepareOptions, 'onFrame'>) {
    const outer = options.signal;
    const abort = () => this.controller.abort();
    outer?.addEventListener('abort', abort, { once: true });
    if (outer?.aborted) abort();
    this.unlink = () => outer?.removeEventListener('abort', abort);
    this.preparation = startVideo(file, {
      ...options,
      signal: this.controller.signal,
      onFrame: (done, total) => {
        this.last = [done, total];
        this.listener?.(done, total);
      },
    });
    void this.preparation.prepared.then(this.unlink, this.unlink);
  }

  /** From now on frame progress goes to `listener`, starting with how far it has come. */
  show(listener: (done: number, total: number) => void): void {
    this.listener = listener;
    if (this.last) listener(...this.last);
  }

  /** Stops the preparation if it still runs, and resolves once its decoder and resizers are gone. */
  async stop(): Promise<void> {
    this.controller.abort();
    this.unlink();
    await Promise.allSettled([this.preparation.prepared]);
  }
}

/**
 * The preparations of a video's windows, each started at most one window ahead of the one
 * the model runs: window i+1 starts when window i's frames are all in (`take(i)` arranges
 * it), never earlier. Without look-ahead, each starts when taken.
 */
export class WindowLookahead {
  private readonly started = new Map<number, WindowPreparation>();
  private stopped = false;

  constructor(private readonly count: number, private readonly prepare: (index: number) => WindowPreparation, private readonly ahead: boolean) {}

  /**
   * Window `index`'s preparation (started earlier or now); the next one follows once this
   * one's frames are in. Windows are taken in order: earlier ones are forgotten.
   */
  take(index: number): WindowPreparation {
    // Windows before this one are done with: dropping them lets their frames be freed, so a
    // long video holds two windows' pixel values, not all of them.
    for (const earlier of this.started.keys()) if (earlier < index) this.started.delete(earlier);
    const current = this.start(index);
    const next = index + 1;
    if (this.ahead && next < this.count) void current.preparation.prepared.then(() => { if (!this.stopped) this.start(next); }, () => undefined);
    return current;
  }

  /** The windows whose preparations (and frames) are still held, in order. */
  held(): number[] {
    return [...this.started.keys()].sort((a, b) => a - b);
  }

  private start(index: number): WindowPreparation {
    let preparation = this.started.get(index);
    if (!preparation) {
      preparation = this.prepare(index);
      this.started.set(index, preparation);
    }
    return preparation;
  }

  /** Stops every preparation (a finished one is left as it is) and waits for all of them. */
  async stop(): Promise<void> {
    this.stopped = true;
    // A look-ahead that started while these settled is stopped too.
    for (;;) {
      const running = [...this.started.values()];
      await Promise.all(running.map((p) => p.stop()));
      if (this.started.size === running.length) return;
    }
  }
}

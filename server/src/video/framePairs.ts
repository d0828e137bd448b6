/**
 * The frames of one video as the vision tower takes them: pairs (temporal patches) written
 * into pixel_values as soon as both of their frames are resized, so the tower can encode
 * pair k while later frames are still being decoded. Frames arrive out of order (the
 * resize pool finishes them in any order); the tower reads pairs in order, so a reader
 * waits for the first `count` pairs to be complete.
 */
import { normalisationTables, patchifyPair, type PixelValues, pixelLayout } from './preprocess';
import type { VisionGeometry } from './plan';

export class FramePairs {
  readonly pixelValues: PixelValues;
  readonly frames: Uint8Array[];
  private readonly framesInPair: number[];
  private readonly tables: Float32Array[];
  /** Pairs 0 … complete-1 are written. */
  private complete = 0;
  private readonly written: boolean[];
  private failure: Error | undefined;
  private readonly waiters: { count: number; resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(frameCount: number, private readonly width: number, private readonly height: number, private readonly geometry: VisionGeometry) {
    const layout = pixelLayout(frameCount, width, height, geometry);
    this.pixelValues = { ...layout, data: new Float32Array(layout.rows * layout.columns) };
    this.frames = new Array(frameCount);
    const pairs = layout.gridThw[0];
    const tp = geometry.temporalPatchSize;
    this.framesInPair = Array.from({ length: pairs }, (_, t) => Math.min(tp, frameCount - t * tp));
    this.written = new Array(pairs).fill(false);
    this.tables = normalisationTables(geometry);
  }

  get pairs(): number {
    return this.written.length;
  }

  /** A resized frame (HWC RGB uint8) at its plan position. */
  add(position: number, rgb: Uint8Array): void {
    this.frames[position] = rgb;
    const tp = this.geometry.temporalPatchSize;
    const t = Math.floor(position / tp);
    if (--this.framesInPair[t] > 0) return;
    patchifyPair(this.frames.slice(t * tp, (t + 1) * tp), t, this.width, this.height, this.geometry, this.pixelValues.data, this.tables);
    this.written[t] = true;
    while (this.complete < this.pairs && this.written[this.complete]) this.complete++;
    this.settle();
  }

  /** Resolves when pairs 0 … count-1 are written; rejects when preparing the video failed. */
  ready(count: number): Promise<void> {
    if (this.complete >= Math.min(count, this.pairs)) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ count, resolve, reject }));
  }

  /** Preparing the video failed: every reader gets this error. */
  fail(error: Error): void {
    this.failure ??= error;
    this.settle();
  }

  private settle(): void {
    const waiting = this.waiters.splice(0);
    for (const waiter of waiting) {
      if (this.complete >= Math.min(waiter.count, this.pairs)) waiter.resolve();
      else if (this.failure) waiter.reject(this.failure);
      else this.waiters.push(waiter);
    }
  }
}

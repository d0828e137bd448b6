/**
 * Worker thread body for QuantizePool: quantizes slices of weights off the main thread.
 * Receives {id, job} and answers {id, result} (buffers transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { quantizeSlice, type SliceJob, type SliceResult } from '../checkpoint/quantizeSlice';

export interface QuantizeRequest { id: number; job: SliceJob }
export type QuantizeReply = { id: number; result: SliceResult } | { id: number; error: string };

/** The buffers a result owns, to transfer. */
export function resultBuffers(result: SliceResult): ArrayBuffer[] {
  const views = result.layout === 'blockwise' ? [result.data, result.scales, result.zeroPoints] : [result.transposed, result.scales];
  return [...new Set(views.map((view) => view.buffer as ArrayBuffer))];
}

parentPort?.on('message', ({ id, job }: QuantizeRequest) => {
  try {
    const result = quantizeSlice(job);
    parentPort!.postMessage({ id, result } satisfies QuantizeReply, resultBuffers(result));
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message } satisfies QuantizeReply);
  }
});

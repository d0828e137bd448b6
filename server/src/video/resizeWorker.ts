/**
 * Worker thread body for ResizePool: resizes frames off the main thread. Receives
 * {id, rgb, inWidth, inHeight, outWidth, outHeight} and answers {id, rgb} (buffers are
 * transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { FrameResizer } from './resize';

export interface ResizeRequest {
  id: number;
  rgb: Uint8Array;
  inWidth: number;
  inHeight: number;
  outWidth: number;
  outHeight: number;
}

export type ResizeReply = { id: number; rgb: Uint8Array } | { id: number; error: string };

let resizer: FrameResizer | undefined;

parentPort?.on('message', (request: ResizeRequest) => {
  try {
    if (!resizer || resizer.inWidth !== request.inWidth || resizer.inHeight !== request.inHeight
      || resizer.outWidth !== request.outWidth || resizer.outHeight !== request.outHeight) {
      resizer = new FrameResizer(request.inWidth, request.inHeight, request.outWidth, request.outHeight);
    }
    const rgb = resizer.resize(request.rgb);
    parentPort!.postMessage({ id: request.id, rgb } satisfies ResizeReply, [rgb.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message } satisfies ResizeReply);
  }
});

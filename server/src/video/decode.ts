/**
 * Decoding exactly the planned frames: one pass of the media worker (or of an ffmpeg binary a
 * setting names, with `select=eq(n,…)`) that selects frames by decoded index (correct for
 * variable frame rate too), writes them as a PPM
 * stream (each frame carries its own size, so nothing is assumed), and hands each frame
 * to the caller as soon as it arrives. Only the frame in flight is held at full size.
 */
import { cpus } from 'node:os';
import { lastLine, mediaInput, spawnTool, toolCommand, ToolError } from './tools';
import { VideoError } from './probe';

export interface DecodeOptions {
  ffmpegPath?: string;
  /** ffmpeg decoder threads (default: all cores). */
  threads?: number;
  signal?: AbortSignal;
  /** Kill ffmpeg when no frame arrived for this long (default 60 s). */
  stallTimeoutMs?: number;
  /**
   * Start the pass at this frame instead of the first: ffmpeg seeks to `time` (the frame's
   * exact presentation time, from the packet table) and counts frames from there.
   */
  startAt?: { frame: number; time: number };
  /**
   * Scale frames to this upright width (aspect kept, even height) while decoding: for stills
   * and thumbnails, never for the model's frames, whose resize must be exact.
   */
  width?: number;
  /**
   * Asked after frames are handed over: a promise pauses the pass until it settles (the
   * receiver holds as many frames as it may), so memory stays bounded however fast the
   * decoder is. The stall timer does not run while paused.
   */
  throttle?: () => Promise<void> | undefined;
}

export interface DecodedFrame {
  /** Position in the plan (0-based). */
  position: number;
  width: number;
  height: number;
  /** Interleaved RGB, row-major. */
  rgb: Uint8Array;
}

/** The `select` expression for a set of frame indices. Commas are escaped for the filter graph. */
export function selectExpression(indices: readonly number[]): string {
  const unique = [...new Set(indices)].sort((a, b) => a - b);
  return unique.map((i) => `eq(n\\,${i})`).join('+');
}

/** Reads a stream of binary PPM (P6, maxval 255) images, bounds-checking every header. */
export class PpmReader {
  // Chunks are kept as they came and joined once per frame: joining on every chunk would
  // copy a 6 MB 1080p frame ~100 times.
  private chunks: Buffer[] = [];
  private length = 0;
  private header: { width: number; height: number; offset: number } | undefined;

  /** Feeds bytes; returns the complete frames they finish. */
  push(chunk: Buffer): { width: number; height: number; rgb: Uint8Array }[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const frames: { width: number; height: number; rgb: Uint8Array }[] = [];
    for (;;) {
      this.header ??= this.readHeader();
      if (!this.header) break;
      const end = this.header.offset + this.header.width * this.header.height * 3;
      if (this.length < end) break;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
      frames.push({ width: this.header.width, height: this.header.height, rgb: new Uint8Array(all.subarray(this.header.offset, end)) });
      const rest = all.subarray(end);
      this.chunks = rest.length ? [rest] : [];
      this.length = rest.length;
      this.header = undefined;
    }
    return frames;
  }

  /** Bytes received that do not complete a frame. */
  get pending(): number {
    return this.length;
  }

  private readHeader(): { width: number; height: number; offset: number } | undefined {
    // "P6" whitespace width whitespace height whitespace 255 one-whitespace.
    if (this.chunks.length > 1 && this.chunks[0].length < 64) this.chunks = [Buffer.concat(this.chunks, this.length)];
    const first = this.chunks[0] ?? Buffer.alloc(0);
    const text = first.subarray(0, 64).toString('latin1');
    const match = /^P6\s+(\d{1,6})\s+(\d{1,6})\s+(\d{1,5})\s/.exec(text);
    if (!match) {
      if (this.length >= 64 || (this.length >= 2 && !text.startsWith('P6'))) {
        throw new ToolError('ffmpeg wrote something other than a PPM frame');
      }
      return undefined;
    }
    const width = Number(match[1]);
    const height = Number(match[2]);
    if (Number(match[3]) !== 255 || width < 1 || height < 1 || width * height > 1 << 28) {
      throw new ToolError(`unexpected PPM frame header ${JSON.stringify(match[0])}`);
    }
    return { width, height, offset: match[0].length };
  }
}

/**
 * Hands each decoded source frame to the plan positions that want it. An index may repeat
 * in a plan; each repeat gets its own copy, since a receiver may transfer the buffer away.
 * Used by both decoding paths (one pass, and seeking).
 */
export class FrameDispatcher {
  private readonly positions = new Map<number, number[]>();
  /** The distinct source indices, ascending. */
  readonly order: number[];

  constructor(indices: readonly number[], private readonly onFrame: (frame: DecodedFrame) => void) {
    indices.forEach((index, position) => {
      const list = this.positions.get(index);
      if (list) list.push(position);
      else this.positions.set(index, [position]);
    });
    this.order = [...this.positions.keys()].sort((a, b) => a - b);
  }

  deliver(index: number, frame: { width: number; height: number; rgb: Uint8Array }): void {
    this.positions.get(index)!.forEach((position, i) => this.onFrame({ position, width: frame.width, height: frame.height, rgb: i === 0 ? frame.rgb : frame.rgb.slice() }));
  }
}

/**
 * Decodes the frames at `indices` (sorted or not; repeated indices are delivered once per
 * occurrence) and calls `onFrame` for each, in plan order.
 */
export function decodeFrames(file: string, indices: readonly number[], onFrame: (frame: DecodedFrame) => void, options: DecodeOptions = {}): Promise<void> {
  const command = toolCommand('ffmpeg', options.ffmpegPath, 'decode');
  const threads = Math.max(1, options.threads ?? cpus().length);
  const start = options.startAt;
  const relative = indices.map((i) => i - (start?.frame ?? 0));
  const args = command.kind === 'worker'
    ? [...command.args, mediaInput(file), [...new Set(relative)].sort((a, b) => a - b).join(','), start ? start.time.toFixed(6) : '', String(threads), ...(options.width ? [String(options.width)] : [])]
    : [
      '-nostdin', '-v', 'error', '-threads', String(threads),
      ...(start ? ['-seek_timestamp', '1', '-ss', start.time.toFixed(6)] : []),
      '-i', mediaInput(file),
      '-map', '0:v:0', '-an', '-sn', '-dn',
      '-vf', `select='${selectExpression(relative)}'${options.width ? `,scale='min(${options.width},iw)':-2:flags=area` : ''}`,
      '-vsync', '0', '-f', 'image2pipe', '-c:v', 'ppm', '-pix_fmt', 'rgb24', 'pipe:1',
    ];
  const dispatcher = new FrameDispatcher(indices, onFrame);
  const order = dispatcher.order;
  const decoder = command.kind === 'worker' ? 'the decoder' : 'ffmpeg';
  const stallMs = options.stallTimeoutMs ?? 60_000;

  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new VideoError(file, 'decoding cancelled'));
    const child = spawnTool(command.path, args, command.env);
    const reader = new PpmReader();
    let received = 0;
    let stderr = '';
    let failure: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const armStallTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new VideoError(file, `${decoder} produced no frame for ${stallMs} ms`)), stallMs);
    };
    const onAbort = () => fail(new VideoError(file, 'decoding cancelled'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    armStallTimer();
    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      try {
        for (const frame of reader.push(chunk)) {
          if (received >= order.length) throw new VideoError(file, `${decoder} returned more frames than planned`);
          const index = order[received++];
          dispatcher.deliver(index, frame);
          armStallTimer();
        }
      } catch (error) {
        return fail(error instanceof VideoError ? error : new VideoError(file, (error as Error).message));
      }
      const full = options.throttle?.();
      if (!full) return;
      child.stdout.pause();
      clearTimeout(timer);
      void full.then(() => {
        if (failure) return;
        armStallTimer();
        child.stdout.resume();
      });
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-16_384);
    });
    child.on('error', (error) => fail(new VideoError(file, `cannot run ffmpeg: ${error.message}`)));
    child.on('close', (code, killedBy) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) return reject(new VideoError(file, `${decoder} failed (${code === null && killedBy ? `ended by ${killedBy}` : lastLine(stderr, mediaInput(file))})`));
      if (received < order.length) {
        return reject(new VideoError(file, `decoded ${received} of ${order.length} planned frames (the file may be truncated; last planned index ${order[order.length - 1]})`));
      }
      resolve();
    });
  });
}

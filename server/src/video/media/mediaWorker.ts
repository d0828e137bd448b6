/**
 * The media worker (dist/media.js): FFmpeg's libraries (node-av) in a process of our own, one
 * request per process, started by tools.ts with an argument array like any tool:
 *
 *   media.js probe FILE                       ffprobe-style JSON on stdout
 *   media.js packets FILE                     `pts_time,flags` lines of the video stream
 *   media.js decode FILE INDICES [SEEK] [THREADS] [WIDTH]
 *                                             PPM frames of the decoded indices (comma-separated),
 *                                             scaled to WIDTH (aspect kept) when given
 *   media.js proxy FILE TARGET                an H.264 + Opus MP4 the preview can play
 *   media.js testpattern TARGET SECONDS       the walkthrough's sample video
 *   media.js version                          FFmpeg's version, configuration, hardware back ends
 *
 * A failure is one line on stderr and exit status 1, as ffmpeg does; the parent's timeout,
 * cancellation and kill-on-exit apply to this process as to ffmpeg's.
 */
import { HardwareContext } from 'node-av/api';
import { AV_LOG_ERROR } from 'node-av/constants';
import { getFFmpegInfo, Log } from 'node-av/lib';
import { proxy, testPattern } from './avEncode';
import { decode, MediaFailure, packets, probe } from './avOperations';

// node-av's high-level packet iterator calls Promise.withResolvers (Node 22); the low-level
// calls used here do not, but a later use of it must not depend on the host's Node.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason: unknown) => void;
      const promise = new Promise<T>((yes, no) => { resolve = yes; reject = no; });
      return { promise, resolve, reject };
    },
  });
}

/** Writes to stdout, waiting when the pipe is full so a slow reader holds at most one frame here. */
function writeOut(data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

function parseIndices(text: string | undefined): number[] {
  const indices = (text ?? '').split(',').map(Number);
  if (!indices.length || indices.some((i) => !Number.isInteger(i) || i < 0)) throw new MediaFailure(`bad frame indices ${JSON.stringify(text)}`);
  return [...new Set(indices)].sort((a, b) => a - b);
}

async function main(argv: string[]): Promise<void> {
  const [operation, file, ...rest] = argv;
  // FFmpeg's own messages: errors only, so the last line on stderr is the reason for a failure.
  Log.setLevel(AV_LOG_ERROR);
  if (operation === 'version') {
    const info = getFFmpegInfo();
    await writeOut(JSON.stringify({ ffmpeg: info.version, libraries: info.libraries, configuration: info.configuration, hardware: HardwareContext.listAvailable() }));
    return;
  }
  if (!file) throw new MediaFailure('usage: media.js probe|packets|decode|proxy|testpattern FILE …');
  switch (operation) {
    case 'probe':
      await writeOut(JSON.stringify(await probe(file)));
      return;
    case 'packets': {
      // Lines are gathered and written in blocks: one write per packet would be 4,500 writes.
      let block = '';
      await packets(file, (line) => { block += line; });
      await writeOut(block);
      return;
    }
    case 'decode': {
      const seekSec = rest[1] ? Number(rest[1]) : undefined;
      if (seekSec !== undefined && !Number.isFinite(seekSec)) throw new MediaFailure(`bad seek time ${rest[1]}`);
      const threads = Math.max(1, Math.min(64, Number(rest[2]) || 1));
      const width = rest[3] ? Number(rest[3]) : undefined;
      if (width !== undefined && !(Number.isInteger(width) && width >= 2 && width <= 4096)) throw new MediaFailure(`bad width ${rest[3]} (2 to 4096 pixels)`);
      await decode(file, { indices: parseIndices(rest[0]), seekSec, threads, width }, writeOut);
      return;
    }
    case 'proxy':
      if (!rest[0]) throw new MediaFailure('usage: media.js proxy FILE TARGET');
      await proxy(file, rest[0]);
      return;
    case 'testpattern': {
      const seconds = Number(rest[0]);
      if (!(seconds > 0 && seconds <= 3600)) throw new MediaFailure(`bad length ${rest[0]} (seconds, at most 3600)`);
      await testPattern(file, seconds);
      return;
    }
    default:
      throw new MediaFailure(`unknown operation ${JSON.stringify(operation)}`);
  }
}

// A reader that went away (the parent was cancelled) is not an error worth a line.
process.stdout.on('error', () => process.exit(1));
main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message.split('\n')[0]}\n`);
    process.exit(1);
  },
);

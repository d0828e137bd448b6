/**
 * What the media worker encodes, with FFmpeg's libraries (node-av's pipeline API): preview
 * proxies (H.264 at most 720 lines, Opus audio) and the walkthrough's sample video (a test
 * pattern). Both write MP4 with the index at the front (`+faststart`), so a webview can play
 * the file while it loads. Runs only inside the worker process (mediaWorker.ts).
 */
import { Decoder, Demuxer, Encoder, FilterAPI, Muxer, pipeline } from 'node-av/api';
import { FF_ENCODER_LIBOPUS, FF_ENCODER_LIBX264 } from 'node-av/constants';
import { MediaFailure } from './avOperations';

/** x264 settings for a preview: fast to make, good enough to watch. */
const X264 = { preset: 'veryfast', crf: '23' };

/**
 * Encodes the first video stream of `input` (and its first audio stream, when `withAudio`)
 * through `videoFilter` into an H.264 (+ Opus) MP4 at `target`.
 */
async function encodeMp4(input: Demuxer, videoFilter: string, target: string, withAudio: boolean): Promise<void> {
  const video = input.video();
  if (!video) throw new MediaFailure('no video stream found');
  // A rotated video (a phone's) keeps its pixels as filmed: decoded frames carry the display
  // matrix and the encoder passes it on to the proxy's stream, so the player turns it.
  const videoDecoder = await Decoder.create(video);
  const filter = FilterAPI.create(videoFilter);
  const videoEncoder = await Encoder.create(FF_ENCODER_LIBX264, { decoder: videoDecoder, filter, options: X264 as never });
  const output = await Muxer.open(target, { format: 'mp4', options: { movflags: '+faststart' } as never });
  const audio = withAudio ? input.audio() : undefined;
  const videoStages = [videoDecoder, filter, videoEncoder];
  let run;
  if (audio) {
    const audioDecoder = await Decoder.create(audio);
    // Opus takes 48 kHz (and a few lower rates) only: the encoder resamples what comes.
    const audioEncoder = await Encoder.create(FF_ENCODER_LIBOPUS, { decoder: audioDecoder, context: { bitRate: '96k' } as never, autoResample: true });
    run = pipeline(input, { video: videoStages, audio: [audioDecoder, audioEncoder] }, output);
  } else {
    run = pipeline(input, { video: videoStages }, output);
  }
  try {
    await run.completion;
  } finally {
    await output.close();
  }
}

/** A proxy of `file` the webview can play, written to `target`. */
export async function proxy(file: string, target: string): Promise<void> {
  const input = await Demuxer.open(file);
  try {
    // Even width (H.264 4:2:0 needs it), at most 720 lines, 8-bit 4:2:0 (what browsers decode).
    await encodeMp4(input, "scale=-2:'min(720,ih)',format=yuv420p", target, true);
  } finally {
    await input.close();
  }
}

/** The sample video: FFmpeg's `testsrc2` pattern (moving picture, frame counter), 640×360 at 25 fps. */
export async function testPattern(target: string, seconds: number): Promise<void> {
  const input = await Demuxer.open(`testsrc2=size=640x360:rate=25:duration=${seconds}`, { format: 'lavfi' });
  try {
    await encodeMp4(input, 'format=yuv420p', target, false);
  } finally {
    await input.close();
  }
}

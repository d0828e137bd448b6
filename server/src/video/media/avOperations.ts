/**
 * What the media worker does with FFmpeg's libraries (node-av): probe a file, list its video
 * packets, decode frames by index. Runs only inside the worker process (mediaWorker.ts), never
 * in the language server, the extension host or the CLI's own process: a decoder crash on a
 * hostile file or a stuck native call then ends one worker, which its parent kills or sees die.
 *
 * Output matches what the ffprobe/ffmpeg command lines wrote, so the parent reads both the
 * same way (probe.ts reads ffprobe's JSON, seek.ts its packet CSV, decode.ts PPM frames).
 */
import {
  AV_DISPOSITION_ATTACHED_PIC, AV_NOPTS_VALUE, AV_PIX_FMT_RGB24, AV_PKT_DATA_DISPLAYMATRIX, AV_PKT_FLAG_KEY, AVERROR_EAGAIN, AVERROR_EOF,
  AVMEDIA_TYPE_AUDIO, AVMEDIA_TYPE_VIDEO, AVSEEK_FLAG_BACKWARD, SWS_AREA, SWS_BICUBIC,
} from 'node-av/constants';
import { avGetCodecName, avGetPixFmtName, Codec, CodecContext, FFmpegError, FormatContext, Frame, Packet, SoftwareScaleContext, type Stream } from 'node-av/lib';
import { rotateRgb, uprightTurn } from './rotate';

/** A failure to report as the worker's one line (no stack: the parent shows it to the user). */
export class MediaFailure extends Error {}

const check = (ret: number, what: string): void => {
  if (ret < 0) throw new MediaFailure(`${what}: ${new FFmpegError(ret).message}`);
};

async function openInput(file: string): Promise<FormatContext> {
  const input = new FormatContext();
  check(await input.openInput(file), 'cannot open');
  check(await input.findStreamInfo(), 'cannot read stream information');
  return input;
}

/** The video stream the pipeline uses: the first that is not a cover picture, else the first. */
function videoStream(input: FormatContext): Stream | undefined {
  const videos = input.streams.filter((s) => s.codecpar.codecType === AVMEDIA_TYPE_VIDEO);
  return videos.find((s) => !(s.disposition & AV_DISPOSITION_ATTACHED_PIC)) ?? videos[0];
}

const seconds = (value: bigint, timeBase: { num: number; den: number }): number => (Number(value) * timeBase.num) / timeBase.den;
const ratio = (r: { num: number; den: number }): string => `${r.num}/${r.den}`;

/** av_display_rotation_get on a 3×3 16.16 display matrix: counter-clockwise degrees, as ffprobe prints it. */
function displayRotation(matrix: Buffer | null): number | undefined {
  if (!matrix || matrix.length < 36) return undefined;
  const m = (i: number) => matrix.readInt32LE(i * 4) / 65536;
  const scale0 = Math.hypot(m(0), m(3));
  const scale1 = Math.hypot(m(1), m(4));
  if (!scale0 || !scale1) return undefined;
  const degrees = -(Math.atan2(m(1) / scale1, m(0) / scale0) * 180) / Math.PI;
  return Object.is(degrees, -0) ? 0 : degrees;
}

/** The angle ffprobe would report for a stream: its display matrix, else its `rotate` tag. */
function streamRotation(stream: Stream): number {
  return displayRotation(stream.codecpar.getCodedSideData(AV_PKT_DATA_DISPLAYMATRIX)) ?? -Number(stream.metadata?.get('rotate') ?? 0);
}

/** ffprobe's `-show_format -show_streams` JSON, the fields probe.ts reads. */
export async function probe(file: string): Promise<object> {
  const input = await openInput(file);
  try {
    const chosen = videoStream(input);
    const streams = input.streams.map((stream) => {
      const par = stream.codecpar;
      const type = par.codecType === AVMEDIA_TYPE_VIDEO ? 'video' : par.codecType === AVMEDIA_TYPE_AUDIO ? 'audio' : 'other';
      const entry: Record<string, unknown> = { codec_type: type, codec_name: avGetCodecName(par.codecId) ?? 'unknown' };
      if (type === 'video') {
        Object.assign(entry, {
          pix_fmt: avGetPixFmtName(par.format as never) ?? undefined,
          width: par.width, height: par.height,
          avg_frame_rate: ratio(stream.avgFrameRate), r_frame_rate: ratio(stream.rFrameRate),
          nb_frames: stream.nbFrames > 0n ? String(stream.nbFrames) : undefined,
          duration: stream.duration > 0n ? String(seconds(stream.duration, stream.timeBase)) : undefined,
          side_data_list: [{ rotation: streamRotation(stream) }],
        });
      }
      // The chosen stream first, so a cover picture listed before it is never taken for the video.
      return { stream, entry };
    }).sort((a, b) => Number(b.stream === chosen) - Number(a.stream === chosen)).map((s) => s.entry);
    // No frame count in the container (MKV, WebM): count the packets, as `ffprobe -count_packets`.
    if (chosen && !(chosen.nbFrames > 0n)) streams[0].nb_read_packets = String(await countPackets(input, chosen.index));
    const duration = input.duration > 0n && input.duration !== AV_NOPTS_VALUE ? String(Number(input.duration) / 1e6) : undefined;
    return { streams, format: { duration } };
  } finally {
    await input.closeInput();
  }
}

async function countPackets(input: FormatContext, streamIndex: number): Promise<number> {
  const packet = new Packet();
  packet.alloc();
  let count = 0;
  try {
    for (;;) {
      const ret = await input.readFrame(packet);
      if (ret === AVERROR_EOF) return count;
      check(ret, 'cannot read a packet');
      if (packet.streamIndex === streamIndex) count++;
      packet.unref();
    }
  } finally {
    packet.free();
  }
}

/** The chosen video stream's packets, as ffprobe's `-show_entries packet=pts_time,flags -of csv=p=0`. */
export async function packets(file: string, write: (line: string) => void): Promise<void> {
  const input = await openInput(file);
  const packet = new Packet();
  packet.alloc();
  try {
    const stream = videoStream(input);
    if (!stream) throw new MediaFailure('no video stream found');
    for (;;) {
      const ret = await input.readFrame(packet);
      if (ret === AVERROR_EOF) break;
      check(ret, 'cannot read a packet');
      if (packet.streamIndex === stream.index) {
        const time = packet.pts === AV_NOPTS_VALUE ? 'N/A' : seconds(packet.pts, stream.timeBase).toFixed(6);
        write(`${time},${packet.flags & AV_PKT_FLAG_KEY ? 'K' : '_'}_\n`);
      }
      packet.unref();
    }
  } finally {
    packet.free();
    await input.closeInput();
  }
}

export interface DecodeRequest {
  /** Wanted frames by decoded index (counted from the seek point when there is one), ascending. */
  indices: number[];
  /** Seek here first (seconds, the stream's own timeline) and count from the first frame at or after it. */
  seekSec?: number;
  threads: number;
  /**
   * Scale each frame to this upright width (the height keeps the aspect, rounded to even),
   * in the worker, for stills and thumbnails: a 96-pixel still crosses the pipe instead of a
   * 1080p frame. Absent: the decoded size, exactly as the model's frames need.
   */
  width?: number;
}

/**
 * Decodes the chosen video stream in presentation order, counting frames, and writes each
 * wanted one as a binary PPM (RGB, upright). Stops after the last wanted frame. The calls
 * are FFmpeg's synchronous ones: this process does nothing else, and a round trip through
 * libuv's thread pool per packet and frame cost ~15% of the decode time (measured).
 */
export async function decode(file: string, request: DecodeRequest, write: (ppm: Buffer) => Promise<void>): Promise<void> {
  const input = await openInput(file);
  const packet = new Packet();
  packet.alloc();
  const frame = new Frame();
  frame.alloc();
  const decoder = new CodecContext();
  const scaler = new SoftwareScaleContext();
  try {
    const stream = videoStream(input);
    if (!stream) throw new MediaFailure('no video stream found');
    const codec = Codec.findDecoder(stream.codecpar.codecId);
    if (!codec) throw new MediaFailure(`no decoder for ${avGetCodecName(stream.codecpar.codecId) ?? 'this codec'}`);
    decoder.allocContext3(codec);
    check(decoder.parametersToContext(stream.codecpar), 'cannot configure the decoder');
    decoder.threadCount = request.threads;
    decoder.pktTimebase = stream.timeBase;
    check(await decoder.open2(codec, null), 'cannot open the decoder');
    const turn = uprightTurn(streamRotation(stream));
    const seekTs = request.seekSec === undefined ? undefined : BigInt(Math.floor((request.seekSec * stream.timeBase.den) / stream.timeBase.num));
    if (seekTs !== undefined) check(await input.seekFrame(stream.index, seekTs, AVSEEK_FLAG_BACKWARD), 'cannot seek');

    const wanted = request.indices;
    let next = 0;
    let counted = 0;
    let converter: { width: number; height: number; format: number; rgb: Frame } | undefined;
    const take = async (): Promise<boolean> => {
      for (;;) {
        const ret = decoder.receiveFrameSync(frame);
        if (ret === AVERROR_EOF || ret === AVERROR_EAGAIN) return next < wanted.length;
        check(ret, 'cannot decode a frame');
        const time = frame.bestEffortTimestamp;
        // Frames before the seek point are decoded only to reach it, as ffmpeg's accurate seek does.
        if (seekTs !== undefined && time !== AV_NOPTS_VALUE && time < seekTs) {
          frame.unref();
          continue;
        }
        if (counted++ === wanted[next]) {
          if (!converter || converter.width !== frame.width || converter.height !== frame.height || converter.format !== frame.format) {
            converter?.rgb.free();
            const [outWidth, outHeight] = outputSize(frame.width, frame.height, turn, request.width);
            scaler.getContext(frame.width, frame.height, frame.format as never, outWidth, outHeight, AV_PIX_FMT_RGB24, request.width ? SWS_AREA : SWS_BICUBIC);
            const rgb = new Frame();
            rgb.alloc();
            rgb.width = outWidth;
            rgb.height = outHeight;
            rgb.format = AV_PIX_FMT_RGB24;
            check(rgb.getBuffer(0), 'cannot allocate a frame');
            converter = { width: frame.width, height: frame.height, format: frame.format, rgb };
          }
          check(scaler.scaleFrameSync(converter.rgb, frame), 'cannot convert a frame to RGB');
          const upright = rotateRgb(tightRows(converter.rgb), converter.rgb.width, converter.rgb.height, turn);
          while (wanted[next] === counted - 1) next++;
          for (const part of ppm(upright)) await write(part);
          if (next >= wanted.length) return false;
        }
        frame.unref();
      }
    };
    let more = true;
    while (more) {
      const ret = input.readFrameSync(packet);
      if (ret === AVERROR_EOF) break;
      check(ret, 'cannot read a packet');
      if (packet.streamIndex === stream.index) {
        const sent = decoder.sendPacketSync(packet);
        // A damaged packet is skipped, as the ffmpeg command line does; the frame count shows it.
        if (sent < 0 && sent !== AVERROR_EAGAIN) {
          packet.unref();
          continue;
        }
        more = await take();
      }
      packet.unref();
    }
    if (more) {
      decoder.sendPacketSync(null);
      await take();
    }
    converter?.rgb.free();
  } finally {
    frame.free();
    packet.free();
    scaler.freeContext();
    decoder.freeContext();
    await input.closeInput();
  }
}

/**
 * The size to convert a decoded frame to (before it is turned upright): the decoded size, or
 * one whose upright width is `uprightWidth` with the aspect kept and both sides even.
 */
export function outputSize(width: number, height: number, turn: 0 | 90 | 180 | 270, uprightWidth?: number): [number, number] {
  if (!uprightWidth) return [width, height];
  const sideways = turn === 90 || turn === 270;
  const [upW, upH] = sideways ? [height, width] : [width, height];
  const w = Math.max(2, Math.round(Math.min(uprightWidth, upW) / 2) * 2);
  const h = Math.max(2, Math.round((w * upH) / upW / 2) * 2);
  return sideways ? [h, w] : [w, h];
}

/** The RGB24 frame's pixels without the row padding FFmpeg adds for alignment. */
function tightRows(rgb: Frame): Uint8Array {
  const data = rgb.data![0];
  const stride = rgb.linesize[0];
  const row = rgb.width * 3;
  // Rows already tight: a view, written out before the next frame is converted into it.
  if (stride === row) return new Uint8Array(data.buffer, data.byteOffset, row * rgb.height);
  const out = new Uint8Array(row * rgb.height);
  for (let y = 0; y < rgb.height; y++) out.set(data.subarray(y * stride, y * stride + row), y * row);
  return out;
}

function ppm(frame: { width: number; height: number; rgb: Uint8Array }): Buffer[] {
  return [Buffer.from(`P6\n${frame.width} ${frame.height}\n255\n`, 'latin1'), Buffer.from(frame.rgb.buffer, frame.rgb.byteOffset, frame.rgb.byteLength)];
}

/** PNG output of RGB frames (pngjs) and a contact sheet of a plan's frames. */
import { PNG } from 'pngjs';
import { FrameResizer } from '../video/resize';

export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

export function decodePng(bytes: Buffer): { width: number; height: number; rgb: Uint8Array } {
  const png = PNG.sync.read(bytes);
  const rgb = new Uint8Array(png.width * png.height * 3);
  for (let i = 0, j = 0; i < png.data.length; i += 4, j += 3) {
    rgb[j] = png.data[i];
    rgb[j + 1] = png.data[i + 1];
    rgb[j + 2] = png.data[i + 2];
  }
  return { width: png.width, height: png.height, rgb };
}

/**
 * Tiles frames (all `width`×`height`) in reading order, each scaled to at most
 * `cellWidth` wide, with a 2-pixel gap: what the model sees, at a glance.
 */
export function contactSheet(frames: readonly Uint8Array[], width: number, height: number, cellWidth = 192): { rgb: Uint8Array; width: number; height: number } {
  const columns = Math.max(1, Math.ceil(Math.sqrt(frames.length)));
  const rows = Math.ceil(frames.length / columns);
  const cw = Math.min(cellWidth, width);
  const ch = Math.max(1, Math.round((height * cw) / width));
  const gap = 2;
  const sheetWidth = columns * cw + (columns + 1) * gap;
  const sheetHeight = rows * ch + (rows + 1) * gap;
  const sheet = new Uint8Array(sheetWidth * sheetHeight * 3).fill(32);
  const resizer = new FrameResizer(width, height, cw, ch);
  frames.forEach((frame, i) => {
    const thumb = resizer.resize(frame);
    const x0 = gap + (i % columns) * (cw + gap);
    const y0 = gap + Math.floor(i / columns) * (ch + gap);
    for (let y = 0; y < ch; y++) {
      sheet.set(thumb.subarray(y * cw * 3, (y + 1) * cw * 3), ((y0 + y) * sheetWidth + x0) * 3);
    }
  });
  return { rgb: sheet, width: sheetWidth, height: sheetHeight };
}

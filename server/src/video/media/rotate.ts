/**
 * Turning a decoded frame upright, as ffmpeg's autorotate does for the CLI: a display
 * matrix (or `rotate` tag) of 90°, 180° or 270° is applied to the pixels, so frames come
 * out at their display size. Pure and small, so it is tested on its own.
 */

/**
 * The clockwise turn that makes a frame upright, from the angle ffprobe reports
 * (`av_display_rotation_get`: counter-clockwise degrees, so a phone's portrait video says
 * −90), rounded to a quarter turn; 0 when there is none.
 */
export function uprightTurn(reportedRotation: number): 0 | 90 | 180 | 270 {
  if (!Number.isFinite(reportedRotation)) return 0;
  const turn = ((Math.round(-reportedRotation / 90) * 90) % 360 + 360) % 360;
  return turn as 0 | 90 | 180 | 270;
}

/** Rotates interleaved RGB clockwise by `turn` degrees; answers the new size and pixels. */
export function rotateRgb(rgb: Uint8Array, width: number, height: number, turn: 0 | 90 | 180 | 270): { width: number; height: number; rgb: Uint8Array } {
  if (turn === 0) return { width, height, rgb };
  const out = new Uint8Array(rgb.length);
  const [outWidth, outHeight] = turn === 180 ? [width, height] : [height, width];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Where source pixel (x, y) lands after a clockwise turn.
      const [nx, ny] = turn === 90 ? [height - 1 - y, x] : turn === 180 ? [width - 1 - x, height - 1 - y] : [y, width - 1 - x];
      const from = (y * width + x) * 3;
      const to = (ny * outWidth + nx) * 3;
      out[to] = rgb[from];
      out[to + 1] = rgb[from + 1];
      out[to + 2] = rgb[from + 2];
    }
  }
  return { width: outWidth, height: outHeight, rgb: out };
}

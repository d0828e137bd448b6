/**
 * Python's and PyTorch's rounding, which the training pipeline used and JavaScript's
 * built-ins do not reproduce: round-half-to-even (`round()`, `Tensor.round()`) and
 * `'{:.1f}'.format(x)` (correctly rounded, ties to even on the exact binary value).
 */

/** Round half to even, as Python's round() and torch.round. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * `f'{x:.1f}'` in Python. `Number.prototype.toFixed` is exact too, except that an exact
 * tie (a binary value exactly halfway, such as 0.25) goes up in JavaScript and to the
 * even digit in Python: 0.25 → "0.2", 0.75 → "0.8", 2.25 → "2.2".
 */
export function pythonFixed1(x: number): string {
  const scaled = x * 10;
  // x * 10 is exact when x has at most two binary fraction bits' worth of decimals; an
  // exact tie has x * 10 ending in .5 exactly, and x * 4 an integer (x = k/4).
  if (Number.isInteger(x * 4) && Math.abs(scaled - Math.trunc(scaled)) === 0.5) {
    return (roundHalfEven(scaled) / 10).toFixed(1);
  }
  return x.toFixed(1);
}

/** Float32 arithmetic helpers: each operation rounded to float32 as torch does on CPU. */
export const f32 = Math.fround;

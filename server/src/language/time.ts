/**
 * Timestamps in .vscan files: plain seconds (`12`, `12.5`, `-1.0`) or clock form
 * (`1:02.5` = m:ss, `1:02:03.5` = h:mm:ss). Parsing keeps how many fractional digits
 * the author wrote so that formatting never rounds away precision they chose.
 */

/** A time as written in the file. `value` is undefined when the text does not parse. */
export interface ParsedTime {
  value: number | undefined;
  /** Fractional digits written (0 for `12`, 2 for `1:02.25`). */
  fractionDigits: number;
}

// Bounded patterns (no nested quantifiers): safe on arbitrarily long input.
const SECONDS = /^(-?)(\d{1,12})(?:\.(\d{1,9}))?$/;
const CLOCK = /^(-?)(?:(\d{1,9}):)?(\d{1,9}):(\d{2})(?:\.(\d{1,9}))?$/;

/** Plain `12` or `12.5` (the common case) without a regular expression; -1 when not that form. */
function plainSecondsFraction(text: string): number {
  let dot = -1;
  const length = text.length;
  if (length === 0 || length > 22) return -1;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 /* . */ && dot < 0 && i > 0 && i < length - 1) dot = i;
    else if (code < 48 || code > 57) return -1;
  }
  return dot < 0 ? 0 : length - dot - 1;
}

export function parseTime(text: string): ParsedTime {
  const plain = plainSecondsFraction(text);
  if (plain >= 0 && plain <= 9) return { value: Number(text), fractionDigits: plain };
  const seconds = SECONDS.exec(text);
  if (seconds) {
    const fraction = seconds[3] ?? '';
    const magnitude = Number(`${seconds[2]}${fraction ? '.' + fraction : ''}`);
    return { value: seconds[1] ? -magnitude : magnitude, fractionDigits: fraction.length };
  }
  const clock = CLOCK.exec(text);
  if (clock) {
    const hours = clock[2] === undefined ? 0 : Number(clock[2]);
    const minutes = Number(clock[3]);
    const secs = Number(clock[4]);
    const fraction = clock[5] ?? '';
    // With an hour field, minutes are two-digit clock minutes too.
    if (secs >= 60 || (clock[2] !== undefined && (minutes >= 60 || clock[3].length !== 2))) {
      return { value: undefined, fractionDigits: 0 };
    }
    const whole = hours * 3600 + minutes * 60 + secs;
    const magnitude = fraction ? whole + Number('0.' + fraction) : whole;
    return { value: clock[1] ? -magnitude : magnitude, fractionDigits: fraction.length };
  }
  return { value: undefined, fractionDigits: 0 };
}

export type TimeStyle = 'seconds' | 'clock';

/**
 * Writes a time with at least one decimal and at most `fractionDigits` (so `12` becomes
 * `12.0` and `12.25` stays `12.25`).
 */
export function formatTime(value: number, style: TimeStyle = 'seconds', fractionDigits = 1): string {
  const digits = Math.min(Math.max(fractionDigits, 1), 9);
  const sign = value < 0 ? '-' : '';
  const magnitude = Math.abs(value);
  if (style === 'seconds') return sign + magnitude.toFixed(digits);
  // Round once, then split, so 59.96 with one digit becomes 1:00.0 rather than 0:60.0.
  const scale = 10 ** digits;
  const total = Math.round(magnitude * scale) / scale;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total - hours * 3600) / 60);
  const secs = (total - hours * 3600 - minutes * 60).toFixed(digits).padStart(digits + 3, '0');
  return hours > 0
    ? `${sign}${hours}:${String(minutes).padStart(2, '0')}:${secs}`
    : `${sign}${minutes}:${secs}`;
}

/** A short human form for hovers and messages: `62.5 s`. */
export function describeSeconds(value: number): string {
  return `${Number(value.toFixed(3))} s`;
}

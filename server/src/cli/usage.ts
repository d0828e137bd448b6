/** A command-line mistake or an unreadable input: printed on stderr, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A numeric flag's value: undefined when the flag is absent; a UsageError naming the flag
 * when the value is not a number of the required kind (positive unless `allowZero`).
 */
export function numberFlag(flag: string, raw: unknown, kind: { integer?: boolean; allowZero?: boolean } = {}): number | undefined {
  if (raw === undefined) return undefined;
  const { integer = false, allowZero = false } = kind;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || (integer && !Number.isSafeInteger(value))) {
    throw new UsageError(`--${flag} needs a ${allowZero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}, got "${String(raw)}"`);
  }
  return value;
}

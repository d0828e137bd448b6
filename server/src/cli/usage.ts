import { type ExecutionProviderChoice, KV_CACHE_CHOICES, type KvCacheChoice, type PrecisionChoice, type WeightsChoice } from '../model/runtime/runtime';
import { WEIGHTS_CHOICES } from '../model/graph/quantizedWeights';
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

/** A flag whose value is one of `choices`: `fallback` when absent, a UsageError naming the choices otherwise. */
export function choiceFlag<T extends string>(flag: string, raw: string | undefined, choices: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`--${flag} is ${choices.join(', ')}; got "${raw}"`);
  return raw as T;
}

/**
 * Loading's stages on stderr, one line each; quantizing's percentages (the first load of a
 * large model: minutes) rewrite one line on a terminal, and are printed every 10% elsewhere.
 */
export function loadProgressPrinter(quiet: boolean, only?: 'quantize'): ((stage: string, detail: string) => void) | undefined {
  if (quiet) return undefined;
  const tty = process.stderr.isTTY === true;
  let tens = -1;
  return (stage, detail) => {
    if (stage === 'quantize') {
      const percent = Number(/(\d+)%$/.exec(detail)?.[1] ?? 0);
      if (tty) process.stderr.write(`\r${detail}${percent === 100 ? '\n' : ''}`);
      else if (Math.floor(percent / 10) !== tens) process.stderr.write(`${detail}\n`);
      tens = percent === 100 ? -1 : Math.floor(percent / 10);
    } else if (!only) {
      process.stderr.write(`${detail}…\n`);
    }
  };
}

/** The flags that choose where and how the model runs, for every command that loads it. */
export const RUNTIME_FLAGS = { ep: { type: 'string' }, precision: { type: 'string' }, weights: { type: 'string' }, 'kv-cache': { type: 'string' }, threads: { type: 'string' } } as const;

export function runtimeFlags(values: { ep?: string; precision?: string; weights?: string; 'kv-cache'?: string; threads?: string }): { executionProvider: ExecutionProviderChoice; precision: PrecisionChoice; weights: WeightsChoice; kvCache: KvCacheChoice; intraOpThreads?: number } {
  const threads = numberFlag('threads', values.threads, { integer: true });
  return {
    executionProvider: choiceFlag('ep', values.ep, ['auto', 'cuda', 'webgpu', 'cpu'], 'auto'),
    precision: choiceFlag('precision', values.precision, ['auto', 'fp32', 'fp16'], 'auto'),
    weights: choiceFlag('weights', values.weights, WEIGHTS_CHOICES, 'auto'),
    kvCache: choiceFlag('kv-cache', values['kv-cache'], KV_CACHE_CHOICES, 'auto'),
    ...(threads === undefined ? {} : { intraOpThreads: threads }),
  };
}

/** The process's peak resident memory so far, in bytes: the engine runs in the CLI's own process, so this is the model's load and run included. */
export function peakResidentBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

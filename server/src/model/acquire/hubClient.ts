/**
 * How we talk to the Hub: the endpoint, token and offline switch from the environment as
 * Python's huggingface_hub reads them (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE), a fetch with
 * timeouts and cancellation for @huggingface/hub to use, and its failures in one line.
 */
import { HubApiError } from '@huggingface/hub';

/** Who to ask and how; every field defaults from the environment. */
export interface HubOptions {
  /** The Hub's base URL (HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  /** A token for private or gated repos (HF_TOKEN otherwise). */
  token?: string;
  /** The cache folder (HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub otherwise). */
  cacheDir?: string;
  /** Cancels every request. */
  signal?: AbortSignal;
}

/** A Hub failure, already put in one line naming the repo (or the file) and what to do. */
export class HubError extends Error {
  override name = 'HubError';
  /** `unreachable`: no answer at all (no network, DNS, refused, timed out), where a cached copy may stand in. */
  constructor(message: string, readonly status?: number, readonly unreachable = false) {
    super(message);
  }
}

/** The download was cancelled by its caller. */
export class DownloadCancelledError extends Error {
  override name = 'DownloadCancelledError';
  readonly cancelled = true;
}

export function hubEndpoint(options: HubOptions = {}): string {
  return (options.endpoint || process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

export function hubToken(options: HubOptions = {}): string | undefined {
  return options.token || process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined;
}

/** HF_HUB_OFFLINE as Python reads it: 1, ON, YES or TRUE, in any case. */
export function isOffline(): boolean {
  return ['1', 'ON', 'YES', 'TRUE'].includes((process.env.HF_HUB_OFFLINE ?? '').trim().toUpperCase());
}

/** Metadata requests give up after this long; bodies after this long without a byte. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A fetch for @huggingface/hub that the caller can cancel and that cannot hang on headers:
 * each request ends after REQUEST_TIMEOUT_MS without a response. (Body stalls are watched by
 * the downloader, which sees the bytes.)
 */
export function cancellableFetch(signal: AbortSignal | undefined, extra?: AbortSignal): typeof fetch {
  return async (input, init) => {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
    const signals = [timeout.signal, ...(signal ? [signal] : []), ...(extra ? [extra] : []), ...(init?.signal ? [init.signal] : [])];
    try {
      return await fetch(input, { ...init, signal: AbortSignal.any(signals) });
    } finally {
      clearTimeout(timer); // the body keeps streaming; only the wait for headers was bounded
    }
  };
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** Turns whatever @huggingface/hub or fetch threw into a one-line HubError (or the cancellation). */
export function explainHubFailure(error: unknown, what: string, options: HubOptions = {}): Error {
  if (error instanceof HubError || error instanceof DownloadCancelledError) return error;
  if (options.signal?.aborted) return new DownloadCancelledError(`${what}: cancelled`);
  const endpoint = hubEndpoint(options);
  if (error instanceof HubApiError) {
    const status = error.statusCode;
    if (status === 401) {
      return new HubError(`${what}: the Hub answered 401 (unauthorized): this repo needs a Hugging Face token (set HF_TOKEN or pass --token)${hubToken(options) ? '; the token given was refused' : ''}`, status);
    }
    if (status === 403) return new HubError(`${what}: the Hub answered 403: your token has no access to this repo (gated: accept its terms on the Hub first)`, status);
    if (status === 404) return new HubError(`${what}: not found on ${endpoint} (check the repo id and revision)`, status);
    return new HubError(`${what}: the Hub answered ${status} (${error.message.split('.')[0]})`, status);
  }
  if (error instanceof TypeError && /access token must start/.test(error.message)) {
    return new HubError(`${what}: the token given is not a Hugging Face token (they start with "hf_")`);
  }
  return new HubError(`${what}: cannot reach the Hub at ${endpoint} (${causeOf(error)}); with HF_HUB_OFFLINE=1 only cached models are used`, undefined, true);
}

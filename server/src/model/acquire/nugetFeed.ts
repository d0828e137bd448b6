/**
 * Fetching one package version from a NuGet v3 feed, as onnxruntime-node's own install
 * script does (service index → flat container → .nupkg), plus the hash the feed publishes
 * for it (service index → registration leaf → catalog leaf's `packageHash`, SHA-512), so
 * the download is verified before anything of it is used.
 *
 * Every request has a timeout (headers, and silence between body chunks), every JSON
 * document a size limit, and every URL taken from a feed document must be http(s).
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** nuget.org's service index, the feed onnxruntime-node's install script uses. */
export const NUGET_ORG = 'https://api.nuget.org/v3/index.json';

export class FeedError extends Error {
  override name = 'FeedError';
}

/** How long to wait for response headers, or for the next body chunk, before giving up. */
const STALL_MS = 30_000;
const MAX_JSON_BYTES = 8 * 2 ** 20;

/** A package version located in a feed: where its .nupkg is and the hash it must have. */
export interface NugetPackageLocation {
  feed: string;
  id: string;
  version: string;
  nupkgUrl: string;
  /** SHA-512 of the .nupkg, base64, as published in the feed's catalog. */
  sha512: string;
}

function checkedUrl(value: unknown, base: string, what: string): string {
  let url: URL;
  try {
    url = new URL(String(value), base);
  } catch {
    throw new FeedError(`${base}: ${what} is not a URL (${String(value).slice(0, 80)})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FeedError(`${base}: ${what} is not an http(s) URL (${url.protocol})`);
  return url.href;
}

/** A one-line reason for a network failure (fetch hides the socket's reason in `cause`). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } })?.cause;
  const own = error instanceof Error ? error.message : String(error);
  return (cause?.message ?? cause?.code ?? own).split('\n')[0];
}

/** The chunks of a response body (the DOM typings give web streams no async iterator). */
async function* chunksOf(body: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Runs `body` with a signal that aborts on the caller's signal or when `stall()` is not called for STALL_MS. */
async function withStallTimeout<T>(signal: AbortSignal | undefined, body: (signal: AbortSignal, stall: () => void) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const stall = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new FeedError(`no data for ${STALL_MS / 1000} s`)), STALL_MS);
  };
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  stall();
  try {
    return await body(controller.signal, stall);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function rethrow(error: unknown, url: string, signal: AbortSignal | undefined, inner: AbortSignal): never {
  if (signal?.aborted) throw Object.assign(new Error('cancelled'), { cancelled: true });
  if (error instanceof FeedError) throw error;
  if (inner.aborted && inner.reason instanceof FeedError) throw new FeedError(`${url}: ${inner.reason.message}`);
  throw new FeedError(`${url}: ${networkReason(error)}`);
}

async function fetchJson(url: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  return withStallTimeout(signal, async (inner, stall) => {
    try {
      const response = await fetch(url, { signal: inner, headers: { accept: 'application/json' } });
      if (!response.ok) throw new FeedError(`${url}: HTTP ${response.status}`);
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of chunksOf(response.body)) {
        stall();
        size += chunk.byteLength;
        if (size > MAX_JSON_BYTES) throw new FeedError(`${url}: larger than ${MAX_JSON_BYTES / 2 ** 20} MiB, not a feed document`);
        chunks.push(chunk);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        throw new FeedError(`${url}: not JSON`);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FeedError(`${url}: not a JSON object`);
      return parsed as Record<string, unknown>;
    } catch (error) {
      rethrow(error, url, signal, inner);
    }
  });
}

/** The `@id` of the first resource of one of `types` in a service index. */
function resource(index: Record<string, unknown>, feed: string, types: string[]): string {
  const resources = Array.isArray(index.resources) ? index.resources : [];
  for (const type of types) {
    const found = resources.find((r: unknown) => !!r && typeof r === 'object' && (r as Record<string, unknown>)['@type'] === type) as Record<string, unknown> | undefined;
    if (found) {
      const id = checkedUrl(found['@id'], feed, `${type} resource`);
      return id.endsWith('/') ? id : `${id}/`;
    }
  }
  throw new FeedError(`${feed}: the service index has no ${types[0]} resource`);
}

/**
 * Finds `id` at `version` in the feed and the SHA-512 the feed publishes for it. Throws a
 * FeedError naming the URL and what is wrong (unreachable, missing version, no hash).
 */
export async function locateNugetPackage(feed: string, id: string, version: string, signal?: AbortSignal): Promise<NugetPackageLocation> {
  const lowerId = id.toLowerCase();
  const lowerVersion = version.toLowerCase();
  const index = await fetchJson(checkedUrl(feed, feed, 'the feed'), signal);
  const flat = resource(index, feed, ['PackageBaseAddress/3.0.0']);
  const versionsUrl = `${flat}${lowerId}/index.json`;
  const versions = (await fetchJson(versionsUrl, signal)).versions;
  if (!Array.isArray(versions) || !versions.some((v) => String(v).toLowerCase() === lowerVersion)) {
    throw new FeedError(`${versionsUrl}: ${id} has no version ${version}`);
  }
  // The hash: registration leaf → catalog leaf (nuget.org keeps packageHash only there).
  const registrations = resource(index, feed, ['RegistrationsBaseUrl/3.6.0', 'RegistrationsBaseUrl/3.4.0', 'RegistrationsBaseUrl']);
  const leafUrl = `${registrations}${lowerId}/${lowerVersion}.json`;
  const leaf = await fetchJson(leafUrl, signal);
  const catalogEntry = leaf.catalogEntry;
  const catalog = typeof catalogEntry === 'string' ? await fetchJson(checkedUrl(catalogEntry, leafUrl, 'catalogEntry'), signal) : (catalogEntry as Record<string, unknown> | undefined);
  const algorithm = String(catalog?.packageHashAlgorithm ?? '');
  const hash = catalog?.packageHash;
  if (algorithm.toUpperCase() !== 'SHA512' || typeof hash !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(hash)) {
    throw new FeedError(`${leafUrl}: the feed publishes no SHA-512 for ${id} ${version} (packageHash/packageHashAlgorithm)`);
  }
  return { feed, id, version, nupkgUrl: `${flat}${lowerId}/${lowerVersion}/${lowerId}.${lowerVersion}.nupkg`, sha512: hash };
}

/**
 * Downloads a package to `dest` (created or truncated), hashing as it goes, and checks the
 * SHA-512. `onProgress` gets bytes received and the total when the server says it. A hash
 * mismatch, a dropped connection or a stall throws a FeedError; `dest` is left for the
 * caller to remove (it downloads into its own staging folder).
 */
export async function downloadNugetPackage(
  location: NugetPackageLocation,
  dest: string,
  options: { signal?: AbortSignal; onProgress?: (received: number, total: number | undefined) => void; maxBytes?: number } = {},
): Promise<number> {
  const url = location.nupkgUrl;
  const maxBytes = options.maxBytes ?? 4 * 2 ** 30;
  return withStallTimeout(options.signal, async (inner, stall) => {
    const file = await open(dest, 'w');
    const hash = createHash('sha512');
    let received = 0;
    let total: number | undefined;
    try {
      const response = await fetch(url, { signal: inner });
      if (!response.ok) throw new FeedError(`${url}: HTTP ${response.status}`);
      const length = Number(response.headers.get('content-length'));
      total = Number.isSafeInteger(length) && length > 0 ? length : undefined;
      if (total !== undefined && total > maxBytes) throw new FeedError(`${url}: ${total} bytes is more than the ${maxBytes} allowed`);
      options.onProgress?.(0, total);
      for await (const chunk of chunksOf(response.body)) {
        stall();
        received += chunk.byteLength;
        if (received > maxBytes) throw new FeedError(`${url}: more than the ${maxBytes} bytes allowed`);
        hash.update(chunk);
        await file.write(chunk);
        options.onProgress?.(received, total);
      }
    } catch (error) {
      if (error instanceof FeedError || options.signal?.aborted) rethrow(error, url, options.signal, inner);
      const where = total ? `after ${received} of ${total} bytes` : `after ${received} bytes`;
      rethrow(new FeedError(`${url}: download failed ${where} (${inner.aborted && inner.reason instanceof FeedError ? inner.reason.message : networkReason(error)})`), url, options.signal, inner);
    } finally {
      await file.close();
    }
    const actual = hash.digest('base64');
    if (actual !== location.sha512) {
      throw new FeedError(`${url}: SHA-512 mismatch (got ${actual.slice(0, 16)}…, the feed publishes ${location.sha512.slice(0, 16)}…); nothing installed`);
    }
    return received;
  });
}

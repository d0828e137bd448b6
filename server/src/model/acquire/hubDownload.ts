/**
 * Downloading a model repo from the Hub into the Hugging Face cache (layout in hubCache.ts).
 *
 * @huggingface/hub does the talking: `modelInfo` (commit, licence), `listFiles` (sizes and
 * the LFS sha256 of each file), `fileDownloadInfo` and `downloadFile` (the resolve URL, its
 * redirect, a Blob whose slices are Range requests). Its `downloadFileToCacheDir` is not
 * used because it lacks what a 4 GB download needs: progress, cancellation, resume of
 * `blobs/<etag>.incomplete` (Python's name for the partial file, so either side resumes the
 * other's), the hash check before a blob is published, and one snapshot per commit (it
 * names snapshots after each file's last commit unless given a commit). Those few steps are
 * here, around its calls.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { downloadFile, fileDownloadInfo, listFiles, type ListFileEntry, modelInfo } from '@huggingface/hub';
import { writeFileAtomic } from '../../workspace/atomicWrite';
import { hubCacheDir, isNeededFile, repoCacheFolder } from './hubCache';
import { cancellableFetch, DownloadCancelledError, explainHubFailure, HubError, type HubOptions, hubEndpoint, hubToken, REQUEST_TIMEOUT_MS } from './hubClient';
import { TransferMeter, type TransferProgress } from './transferProgress';

/** One file of a planned download. */
export interface PlannedFile {
  path: string;
  size: number;
  /** The blob's name in the cache: the LFS sha256, else the git blob sha1 (what the Hub sends as ETag). */
  etag: string;
  /** How the content is checked: sha256 (LFS files) or git's blob sha1. */
  check: 'sha256' | 'git-sha1';
  /** Bytes already in the cache for it: the whole file, or a partial download to resume. */
  cachedBytes: number;
}

/** What a download will fetch, known before it starts (shown to the user to agree to). */
export interface DownloadPlan {
  repo: string;
  revision: string;
  commit: string;
  /** The licence the repo card declares (`license:` in its metadata), e.g. `bsl-1.1`. */
  license?: string;
  /** Where to read it: the repo's LICENSE file when it has one, else its page. */
  licenseUrl: string;
  files: PlannedFile[];
  /** The needed files in all, and what is still to fetch. */
  totalBytes: number;
  downloadBytes: number;
  cacheDir: string;
}

const COMMIT = /^[0-9a-f]{40}$/;

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

function credentials(options: HubOptions) {
  const accessToken = hubToken(options);
  return { hubUrl: hubEndpoint(options), ...(accessToken ? { accessToken } : {}), fetch: cancellableFetch(options.signal) };
}

/** Asks the Hub what `repo@revision` holds and how much of it is still to fetch. */
export async function planDownload(repo: string, revision: string, options: HubOptions = {}): Promise<DownloadPlan> {
  const what = `${repo}@${revision}`;
  const cacheDir = options.cacheDir ?? hubCacheDir();
  let commit: string;
  let license: string | undefined;
  const entries: ListFileEntry[] = [];
  try {
    const info = await modelInfo({ name: repo, revision, additionalFields: ['sha', 'cardData'], ...credentials(options) });
    const sha = (info as { sha?: unknown }).sha;
    if (typeof sha !== 'string' || !COMMIT.test(sha)) throw new HubError(`${what}: the Hub's model info has no commit sha`);
    commit = sha;
    const declared = ((info as { cardData?: { license?: unknown } }).cardData ?? {}).license;
    license = typeof declared === 'string' ? declared : undefined;
    let listed = 0;
    for await (const entry of listFiles({ repo, revision: commit, ...credentials(options) })) {
      // The listing is paged by the Hub; a repo with absurdly many entries is not a checkpoint.
      if (++listed > 100_000) throw new HubError(`${what}: more than 100,000 files listed; not a checkpoint repo`);
      if (entry.type === 'file') entries.push(entry);
    }
  } catch (error) {
    throw explainHubFailure(error, what, options);
  }
  const folder = repoCacheFolder(repo, cacheDir);
  const files: PlannedFile[] = [];
  for (const entry of entries.filter((e) => isNeededFile(e.path))) {
    const etag = entry.lfs?.oid ?? entry.oid;
    if (!etag || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(etag)) throw new HubError(`${what}: ${entry.path} is listed without a usable hash`);
    const size = entry.lfs?.size ?? entry.size;
    if (!Number.isSafeInteger(size) || size < 0) throw new HubError(`${what}: ${entry.path} is listed with size ${String(size)}`);
    const blob = join(folder, 'blobs', etag);
    const whole = await sizeOf(blob);
    const partial = await sizeOf(`${blob}.incomplete`);
    const cachedBytes = whole === size ? size : partial !== undefined && partial <= size ? partial : 0;
    files.push({ path: entry.path, size, etag, check: entry.lfs ? 'sha256' : 'git-sha1', cachedBytes });
  }
  if (!files.some((f) => f.path === 'config.json')) throw new HubError(`${what}: no config.json in the repo; not a checkpoint`);
  const licenseFile = files.find((f) => /^LICEN[CS]E/i.test(f.path));
  const base = `${hubEndpoint(options)}/${repo}`;
  return {
    repo, revision, commit, license, cacheDir, files,
    licenseUrl: licenseFile ? `${base}/blob/${commit}/${licenseFile.path}` : base,
    totalBytes: files.reduce((sum, f) => sum + f.size, 0),
    downloadBytes: files.reduce((sum, f) => sum + f.size - f.cachedBytes, 0),
  };
}

/** Options of a download: the Hub's, plus progress (called at most ~10 times a second). */
export interface DownloadOptions extends HubOptions {
  onProgress?: (progress: TransferProgress) => void;
}

function hasherFor(file: PlannedFile): Hash {
  const hash = createHash(file.check === 'sha256' ? 'sha256' : 'sha1');
  if (file.check === 'git-sha1') hash.update(`blob ${file.size}\0`); // git hashes a header, then the content
  return hash;
}

/** Feeds the bytes already on disk to the hash, so a resumed file is checked whole. */
async function hashExisting(path: string, hash: Hash, bytes: number): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer);
}

/**
 * Appends the rest of a file (from `offset`) to `incomplete`, feeding `hash`; returns the
 * bytes the file then holds. A cut connection keeps what arrived, for the next try.
 */
async function fetchRest(plan: DownloadPlan, file: PlannedFile, incomplete: string, offset: number, hash: Hash, meter: TransferMeter, options: DownloadOptions): Promise<number> {
  const what = `${plan.repo}: ${file.path}`;
  // A stalled body (connection open, no bytes) is cut after REQUEST_TIMEOUT_MS.
  const stall = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(new Error(`no data for ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
  };
  let received = offset;
  let lastReport = 0;
  try {
    const accessToken = hubToken(options);
    const common = { repo: plan.repo, path: file.path, revision: plan.commit, hubUrl: hubEndpoint(options), ...(accessToken ? { accessToken } : {}) };
    const fetcher = rangeCheckedFetch(cancellableFetch(options.signal, stall.signal), offset);
    arm();
    const info = await fileDownloadInfo({ ...common, fetch: fetcher });
    if (!info) throw new HubError(`${what}: listed but not downloadable (404)`);
    if (info.size !== file.size) throw new HubError(`${what}: the Hub reports ${info.size} bytes, its listing ${file.size}`);
    const whole = await downloadFile({ ...common, fetch: fetcher, xet: false, downloadInfo: info });
    if (!whole) throw new HubError(`${what}: listed but not downloadable (404)`);
    const body = offset > 0 ? whole.slice(offset) : whole;
    const out = createWriteStream(incomplete, { flags: offset > 0 ? 'a' : 'w' });
    try {
      for await (const chunk of Readable.fromWeb(body.stream() as import('node:stream/web').ReadableStream<Uint8Array>)) {
        arm();
        const bytes = chunk as Buffer;
        if (received + bytes.length > file.size) throw new HubError(`${what}: the Hub sent more than the ${file.size} bytes listed`);
        hash.update(bytes);
        received += bytes.length;
        meter.add(bytes.length);
        if (!out.write(bytes)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        const now = performance.now();
        if (now - lastReport > 100) {
          lastReport = now;
          options.onProgress?.(meter.progress(file.path));
        }
      }
    } finally {
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    }
  } catch (error) {
    // The partial file stays for the next attempt to resume (unless it was bad data).
    if (error instanceof HubError) throw error;
    if (options.signal?.aborted) throw new DownloadCancelledError(`${what}: cancelled after ${received} of ${file.size} bytes; run again to resume`);
    const reason = stall.signal.aborted ? String((stall.signal.reason as Error).message) : undefined;
    if (reason || !(error as { statusCode?: number }).statusCode) {
      throw new HubError(`${what}: download interrupted after ${received} of ${file.size} bytes (${reason ?? causeLine(error)}); run again to resume`);
    }
    throw explainHubFailure(error, what, options);
  } finally {
    clearTimeout(timer);
  }
  return received;
}

/** Fetches one blob into `blobs/<etag>`, resuming `<etag>.incomplete`, checked before it is renamed into place. */
async function downloadBlob(plan: DownloadPlan, file: PlannedFile, meter: TransferMeter, options: DownloadOptions): Promise<void> {
  const blobs = join(repoCacheFolder(plan.repo, plan.cacheDir), 'blobs');
  const blob = join(blobs, file.etag);
  if ((await sizeOf(blob)) === file.size) return;
  const incomplete = `${blob}.incomplete`;
  let offset = (await sizeOf(incomplete)) ?? 0;
  if (offset > file.size) offset = 0;
  await mkdir(blobs, { recursive: true });
  if (offset === 0) await rm(incomplete, { force: true });
  else await truncate(incomplete, offset);
  const hash = hasherFor(file);
  await hashExisting(incomplete, hash, offset);
  const what = `${plan.repo}: ${file.path}`;
  // A partial file already whole (a crash between the last byte and the rename, or an empty
  // file) needs no request: a Range from its end would be refused (416).
  let received = offset;
  if (offset < file.size) received = await fetchRest(plan, file, incomplete, offset, hash, meter, options);
  else await writeFile(incomplete, '', { flag: 'a' });
  if (received !== file.size) {
    throw new HubError(`${what}: download interrupted after ${received} of ${file.size} bytes (the connection closed early); run again to resume`);
  }
  const digest = hash.digest('hex');
  if (digest !== file.etag) {
    await rm(incomplete, { force: true }); // bad bytes must not be resumed
    throw new HubError(`${what}: ${file.check === 'sha256' ? 'sha256' : 'git sha1'} ${digest} does not match the Hub's ${file.etag}; the download was discarded, run again`);
  }
  await rename(incomplete, blob);
}

function causeLine(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return (cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))).split('\n')[0];
}

/**
 * A resumed body must be the rest of the file: a server that ignores Range answers 200
 * with the whole file, which appended would corrupt the blob.
 */
function rangeCheckedFetch(inner: typeof fetch, offset: number): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const range = new Headers(init?.headers).get('Range') ?? '';
    if (offset > 0 && range.startsWith(`bytes=${offset}-`) && response.status === 200) {
      await response.body?.cancel();
      throw new HubError(`${String(input)}: the server ignored the resume request (Range); delete the .incomplete file to start over`);
    }
    return response;
  };
}

/** Points `snapshots/<commit>/<path>` at its blob with a relative link, as Python does. */
async function linkIntoSnapshot(plan: DownloadPlan, file: PlannedFile): Promise<void> {
  const folder = repoCacheFolder(plan.repo, plan.cacheDir);
  const pointer = join(folder, 'snapshots', plan.commit, file.path);
  const target = relative(dirname(pointer), join(folder, 'blobs', file.etag));
  await mkdir(dirname(pointer), { recursive: true });
  const temp = `${pointer}.${process.pid}.tmp`;
  await rm(temp, { force: true });
  await symlink(target, temp);
  await rename(temp, pointer); // replaces an older link atomically
}

/**
 * Downloads what `plan` lists into the cache and returns the snapshot folder. Cancelling
 * (options.signal) keeps partial files; the next download resumes them.
 */
export async function downloadSnapshot(plan: DownloadPlan, options: DownloadOptions = {}): Promise<string> {
  const meter = new TransferMeter(plan.downloadBytes);
  // Small files first: the licence and config are there early, the weights last.
  for (const file of [...plan.files].sort((a, b) => a.size - b.size)) {
    if (options.signal?.aborted) throw new DownloadCancelledError(`${plan.repo}: download cancelled; run again to resume`);
    await downloadBlob(plan, file, meter, options);
    await linkIntoSnapshot(plan, file);
    options.onProgress?.(meter.progress(file.path));
  }
  const folder = repoCacheFolder(plan.repo, plan.cacheDir);
  if (plan.revision !== plan.commit) {
    const ref = join(folder, 'refs', ...plan.revision.split('/'));
    await mkdir(dirname(ref), { recursive: true });
    await writeFileAtomic(ref, plan.commit); // Python writes the bare commit, no newline
  }
  return join(folder, 'snapshots', plan.commit);
}

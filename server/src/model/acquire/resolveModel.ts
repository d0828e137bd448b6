/**
 * From a model spec to a checkpoint folder, without downloading: a folder is itself; a Hub
 * id is its cached snapshot (so it works offline), or a one-line error saying what is
 * missing and how to get it. Downloads happen only when a user agreed (CLI prompt or
 * --yes, the client's question) — never as a side effect of a caption.
 */
import { stat } from 'node:fs/promises';
import { findCachedSnapshot, hubCacheDir } from './hubCache';
import { explainHubFailure, type HubOptions, isOffline } from './hubClient';
import { planDownload } from './hubDownload';
import { parseModelSpec } from './modelSpec';

/** What a spec names and whether it is here (sent as is as the LSP's `ModelInfo`). */
export interface ModelDescription {
  /** As configured: a Hub repo id `owner/name`, optionally `@revision`, or a folder. */
  spec: string;
  kind: 'hub' | 'folder';
  /** Hub: the repo id and the revision asked for (default `main`). */
  repo?: string;
  revision?: string;
  /** The checkpoint folder when it is here: the folder itself, or the cached snapshot. */
  localDir?: string;
  /** Whether every file the engine needs is here (always true for a readable folder). */
  ready: boolean;
  /** Hub, when the Hub answered: bytes still to download, and the needed files in all. */
  downloadBytes?: number;
  totalBytes?: number;
  /** The repo's licence as its card declares it (e.g. `bsl-1.1`, `other`), with a link to read it. */
  license?: string;
  licenseUrl?: string;
  /** Why it cannot be had, in one line (offline and not cached, no access, not found…). */
  problem?: string;
}

/** A Hub model that is not (completely) in the cache; the message says what and how to get it. */
export class ModelNotDownloadedError extends Error {
  override name = 'ModelNotDownloadedError';
}

/** The checkpoint folder a spec names, from the cache for Hub ids; throws ModelNotDownloadedError. */
export async function resolveModelDir(spec: string, options: Pick<HubOptions, 'cacheDir'> = {}): Promise<string> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'folder') return parsed.dir;
  const cacheDir = options.cacheDir ?? hubCacheDir();
  const snapshot = await findCachedSnapshot(parsed.repo, parsed.revision, cacheDir);
  const how = `download it with "vscan model download ${parsed.spec}" (or Download Model in VS Code)`;
  if (!snapshot) throw new ModelNotDownloadedError(`${parsed.spec} is not downloaded (nothing cached in ${cacheDir}): ${how}`);
  if (snapshot.missing.length) {
    throw new ModelNotDownloadedError(`${parsed.spec} is only partly downloaded (${snapshot.dir} lacks ${snapshot.missing.join(', ')}): ${how}`);
  }
  return snapshot.dir;
}

/**
 * What a spec names and whether it is here; for a Hub id not fully cached (and not offline)
 * the Hub is asked for the size to download and the licence. Never throws: problems go in
 * `problem`.
 */
export async function describeModel(spec: string, options: HubOptions = {}): Promise<ModelDescription> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'folder') {
    try {
      const ok = (await stat(parsed.dir)).isDirectory();
      return ok ? { spec, kind: 'folder', localDir: parsed.dir, ready: true } : { spec, kind: 'folder', ready: false, problem: `${parsed.dir}: not a folder` };
    } catch {
      return { spec, kind: 'folder', ready: false, problem: `${parsed.dir}: no such folder, and not a Hub id (owner/name)` };
    }
  }
  const cacheDir = options.cacheDir ?? hubCacheDir();
  const info: ModelDescription = { spec, kind: 'hub', repo: parsed.repo, revision: parsed.revision, ready: false };
  const snapshot = await findCachedSnapshot(parsed.repo, parsed.revision, cacheDir);
  if (snapshot) info.localDir = snapshot.dir;
  if (snapshot && !snapshot.missing.length) {
    info.ready = true;
    return info;
  }
  if (isOffline()) {
    info.problem = `${spec}: HF_HUB_OFFLINE is set and ${snapshot ? `the cached snapshot lacks ${snapshot.missing.join(', ')}` : `nothing is cached in ${cacheDir}`}`;
    return info;
  }
  try {
    const plan = await planDownload(parsed.repo, parsed.revision, { ...options, cacheDir });
    Object.assign(info, { downloadBytes: plan.downloadBytes, totalBytes: plan.totalBytes, licenseUrl: plan.licenseUrl }, plan.license ? { license: plan.license } : {});
  } catch (error) {
    info.problem = explainHubFailure(error, spec, options).message;
  }
  return info;
}

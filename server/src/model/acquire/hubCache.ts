/**
 * The Hugging Face cache, as Python's huggingface_hub lays it out, so each side reuses the
 * other's downloads:
 *
 *     <cache>/models--owner--name/blobs/<etag>                 file contents (LFS: sha256, else git sha1)
 *     <cache>/models--owner--name/snapshots/<commit>/<file>    relative symlinks into blobs/
 *     <cache>/models--owner--name/refs/<revision>              the commit a branch or tag pointed at
 *
 * `<cache>` is HF_HUB_CACHE, else HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
 * ~/.cache/huggingface/hub.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { getRepoFolderName, REGEX_COMMIT_HASH, scanCacheDir } from '@huggingface/hub';

/**
 * The hub cache folder for this process's environment, in Python's order. An empty variable
 * counts as unset (getHFHubCachePath of @huggingface/hub would take "" as a path).
 */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const set = (name: string) => env[name] || undefined;
  const home = set('HF_HOME') ?? join(set('XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'huggingface');
  return set('HF_HUB_CACHE') ?? set('HUGGINGFACE_HUB_CACHE') ?? join(home, 'hub');
}

/** `<cache>/models--owner--name`. */
export function repoCacheFolder(repo: string, cacheDir = hubCacheDir()): string {
  return join(cacheDir, getRepoFolderName({ type: 'model', name: repo }));
}

/** Whether a file the engine reads is worth fetching: weights, config, tokenizer, template, prompts, licence. */
export function isNeededFile(path: string): boolean {
  if (path.includes('/')) return false; // the engine reads the folder's top level only
  return /\.safetensors$/.test(path)
    || /^(config|generation_config|tokenizer|tokenizer_config|special_tokens_map|added_tokens|vocab|preprocessor_config|video_preprocessor_config|chat_template|prompts|model\.safetensors\.index)\.json$/.test(path)
    || path === 'merges.txt' || path === 'chat_template.jinja'
    || /^(README|LICEN[CS]E)(\.md|\.txt)?$/i.test(path);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile(); // follows the snapshot's symlinks to the blobs
  } catch {
    return false;
  }
}

/**
 * What a snapshot folder lacks for the engine to load it: config, tokenizer, and every
 * weight file (the single file, or each shard its index names). Empty when complete.
 */
export async function missingFromSnapshot(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const name of ['config.json', 'tokenizer.json']) if (!(await isFile(join(dir, name)))) missing.push(name);
  const index = join(dir, 'model.safetensors.index.json');
  if (await isFile(index)) {
    let shards: string[] = [];
    try {
      const map = (JSON.parse(await readFile(index, 'utf8')) as { weight_map?: Record<string, unknown> }).weight_map ?? {};
      shards = [...new Set(Object.values(map).filter((v): v is string => typeof v === 'string' && !v.includes('/')))];
    } catch {
      missing.push('model.safetensors.index.json (unreadable)');
    }
    for (const shard of shards) if (!(await isFile(join(dir, shard)))) missing.push(shard);
  } else if (!(await isFile(join(dir, 'model.safetensors')))) {
    missing.push('model.safetensors');
  }
  return missing;
}

/** The commit a revision names in the cache: itself when it is a commit hash, else refs/<revision>. */
export async function cachedCommit(repo: string, revision: string, cacheDir = hubCacheDir()): Promise<string | undefined> {
  if (REGEX_COMMIT_HASH.test(revision)) return revision;
  try {
    const commit = (await readFile(join(repoCacheFolder(repo, cacheDir), 'refs', ...revision.split('/')), 'utf8')).trim();
    return REGEX_COMMIT_HASH.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/** A cached snapshot and what it lacks. */
export interface CachedSnapshot {
  commit: string;
  dir: string;
  missing: string[];
}

/** The cached snapshot of `repo@revision`, or undefined when the revision was never fetched. */
export async function findCachedSnapshot(repo: string, revision: string, cacheDir = hubCacheDir()): Promise<CachedSnapshot | undefined> {
  const commit = await cachedCommit(repo, revision, cacheDir);
  if (!commit) return undefined;
  const dir = join(repoCacheFolder(repo, cacheDir), 'snapshots', commit);
  try {
    if (!(await stat(dir)).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  return { commit, dir, missing: await missingFromSnapshot(dir) };
}

/** One cached model repo, for `vscan model list`. */
export interface CachedModel {
  repo: string;
  /** Bytes of its blobs (shared by its snapshots, counted once). */
  bytes: number;
  revisions: { commit: string; refs: string[]; dir: string; complete: boolean }[];
}

/** Every model repo in the cache, with sizes; repos the scan could not read come back as warnings. */
export async function listCachedModels(cacheDir = hubCacheDir()): Promise<{ models: CachedModel[]; warnings: string[] }> {
  try {
    if (!(await stat(cacheDir)).isDirectory()) return { models: [], warnings: [`${cacheDir}: not a folder`] };
  } catch {
    return { models: [], warnings: [] }; // nothing downloaded yet
  }
  const scan = await scanCacheDir(cacheDir);
  const models: CachedModel[] = [];
  for (const repo of scan.repos.filter((r) => r.id.type === 'model').sort((a, b) => a.id.name.localeCompare(b.id.name))) {
    const revisions = [];
    for (const revision of repo.revisions) {
      revisions.push({ commit: revision.commitOid, refs: revision.refs, dir: revision.path, complete: (await missingFromSnapshot(revision.path)).length === 0 });
    }
    models.push({ repo: repo.id.name, bytes: repo.size, revisions });
  }
  return { models, warnings: scan.warnings.map((w) => w.message.split('\n')[0]) };
}

/** `vscan model download` and `vscan model list`: the Hugging Face cache from the command line. */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { findCachedSnapshot, hubCacheDir, listCachedModels } from '../model/acquire/hubCache';
import { HubError, isOffline } from '../model/acquire/hubClient';
import { type DownloadPlan, downloadSnapshot, planDownload } from '../model/acquire/hubDownload';
import { DEFAULT_MODEL, parseHubId } from '../model/acquire/modelSpec';
import { describeTransfer, formatBytes, percentDone, type TransferProgress } from '../model/acquire/transferProgress';
import { UsageError } from './usage';

export const HUB_HELP = `  vscan model download [REPO] [--revision R] [--yes] [--token T] [--json]
                                         fetch a Hub model into the Hugging Face cache (default ${DEFAULT_MODEL});
                                         shows the size and licence and asks first (--yes agrees, needed off a terminal)
  vscan model list [--json]              models in the Hugging Face cache, with sizes
  --model and model commands take a folder or a Hub id (owner/name[@revision]), read from the cache;
  the cache is HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub; HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE apply`;

function describePlan(plan: DownloadPlan): string {
  const licence = plan.license ? `licence ${plan.license} (${plan.licenseUrl})` : `no licence declared on its card (${plan.licenseUrl})`;
  return `${plan.repo}@${plan.revision} (commit ${plan.commit.slice(0, 12)}): ${plan.files.length} files, ${formatBytes(plan.downloadBytes)} to download of ${formatBytes(plan.totalBytes)}; ${licence}`;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** A bar redrawn in place on a terminal; elsewhere a plain line per 10% and per file. */
function progressPrinter(tty: boolean): (p: TransferProgress) => void {
  let lastLine = '';
  let lastTenth = -1;
  let lastFile = '';
  return (p) => {
    const percent = percentDone(p);
    if (tty) {
      const width = 24;
      const filled = Math.round((percent / 100) * width);
      const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${describeTransfer(p)}`;
      if (line !== lastLine) process.stderr.write(`\r${line.slice(0, (process.stderr.columns || 120) - 1).padEnd(Math.min(lastLine.length, (process.stderr.columns || 120) - 1))}`);
      lastLine = line;
      return;
    }
    const tenth = Math.floor(percent / 10);
    if (tenth !== lastTenth || p.file !== lastFile) process.stderr.write(`${percent}% ${describeTransfer(p)}\n`);
    lastTenth = tenth;
    lastFile = p.file;
  };
}

async function runDownload(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    revision: { type: 'string' }, yes: { type: 'boolean', short: 'y' }, token: { type: 'string' }, json: { type: 'boolean' },
  } });
  if (positionals.length > 1) throw new UsageError('model download takes one repo id (owner/name)');
  const spec = positionals[0] ?? DEFAULT_MODEL;
  const id = parseHubId(spec);
  if (!id) throw new UsageError(`"${spec}" is not a Hub repo id (owner/name, optionally @revision)`);
  if (values.revision && spec.includes('@')) throw new UsageError('give the revision once: owner/name@rev or --revision');
  const revision = values.revision ?? id.revision;
  if (!parseHubId(`${id.repo}@${revision}`)) throw new UsageError(`--revision "${revision}" is not a branch, tag or commit name`);
  const report = (dir: string, downloaded: number) => {
    if (values.json) console.log(JSON.stringify({ repo: id.repo, revision, dir, downloadedBytes: downloaded }));
    else console.log(dir);
  };
  if (isOffline()) {
    const cached = await findCachedSnapshot(id.repo, revision);
    if (cached && !cached.missing.length) {
      if (!values.json) console.error(`HF_HUB_OFFLINE is set: ${id.repo}@${revision} is cached`);
      report(cached.dir, 0);
      return 0;
    }
    throw new HubError(`${id.repo}@${revision}: HF_HUB_OFFLINE is set and ${cached ? `the cached snapshot lacks ${cached.missing.join(', ')}` : `nothing is cached in ${hubCacheDir()}`}`);
  }
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const options = { signal: controller.signal, ...(values.token ? { token: values.token } : {}) };
    let plan: DownloadPlan;
    try {
      plan = await planDownload(id.repo, revision, options);
    } catch (error) {
      // No network: a complete cached snapshot stands in, as huggingface_hub's snapshot_download does.
      const cached = error instanceof HubError && error.unreachable ? await findCachedSnapshot(id.repo, revision) : undefined;
      if (!cached || cached.missing.length) throw error;
      console.error(`${(error as Error).message.split(';')[0]}; using the cached snapshot`);
      report(cached.dir, 0);
      return 0;
    }
    if (!values.json) console.error(describePlan(plan));
    if (plan.downloadBytes > 0 && !values.yes) {
      if (!process.stdin.isTTY) throw new UsageError(`${id.repo}: not asking off a terminal; pass --yes to agree to the ${formatBytes(plan.downloadBytes)} download and the licence (${plan.license ?? 'see the repo'})`);
      if (!(await confirm('Download it and accept the licence? [y/N] '))) {
        console.error('not downloaded');
        return 1;
      }
    }
    const tty = process.stderr.isTTY === true && !values.json;
    const dir = await downloadSnapshot(plan, { ...options, onProgress: values.json ? undefined : progressPrinter(tty) });
    if (tty) process.stderr.write('\n');
    report(dir, plan.downloadBytes);
    return 0;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

async function runList(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length) throw new UsageError('model list takes no arguments');
  const cacheDir = hubCacheDir();
  const { models, warnings } = await listCachedModels(cacheDir);
  if (values.json) {
    console.log(JSON.stringify({ cacheDir, models, warnings }, null, 2));
    return 0;
  }
  if (!models.length) console.log(`no models in ${cacheDir}`);
  for (const model of models) {
    console.log(`${model.repo}  ${formatBytes(model.bytes)}`);
    for (const r of model.revisions) console.log(`  ${r.commit.slice(0, 12)}${r.refs.length ? ` (${r.refs.join(', ')})` : ''}${r.complete ? '' : '  incomplete'}  ${r.dir}`);
  }
  for (const warning of warnings) console.error(`warning: ${warning}`);
  return 0;
}

/** `model download` / `model list`, or undefined for another model subcommand. */
export function runHubCommand(sub: string | undefined, args: string[]): Promise<number> | undefined {
  if (sub === 'download') return runDownload(args);
  if (sub === 'list') return runList(args);
  return undefined;
}

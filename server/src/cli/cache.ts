/** `vscan cache list|clean`: the graph cache and the weight files its hard links pin. */
import { parseArgs } from 'node:util';
import { describeBytes } from '../io/regularFile';
import { cleanGraphCache, defaultGraphCacheDir, type GraphCacheEntry, listGraphCache } from '../model/runtime/graphCache';
import { UsageError } from './usage';

export const CACHE_HELP = `  vscan cache list [--json] [--dir DIR]          the graph cache (default ~/.cache/video-scan/onnx): entries, sizes, stale ones
  vscan cache clean [--all] [--json] [--dir DIR] remove stale entries (their checkpoint is gone or changed); --all: every entry`;

function render(entry: GraphCacheEntry): string {
  const pinned = entry.pinnedBytes ? `, pins ${describeBytes(entry.pinnedBytes)} of deleted or replaced weights` : '';
  return `${entry.state.padEnd(5)}  ${entry.folder}  (${entry.checkpoint ?? 'checkpoint not recorded'}; graph ${describeBytes(entry.graphBytes)}${pinned}; built ${entry.lastBuilt.toISOString()})`;
}

export async function runCacheCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, all: { type: 'boolean' }, dir: { type: 'string' } } });
  const [action, ...extra] = positionals;
  if ((action !== 'list' && action !== 'clean') || extra.length) throw new UsageError('cache needs list or clean (try vscan help)');
  if (action === 'list' && values.all) throw new UsageError('--all goes with cache clean');
  const dir = values.dir ?? defaultGraphCacheDir();
  const entries = action === 'list' ? await listGraphCache(dir) : await cleanGraphCache(dir, { all: values.all === true });
  if (values.json) {
    console.log(JSON.stringify(entries));
    return 0;
  }
  if (action === 'list') {
    for (const entry of entries) console.log(render(entry));
    const pinned = entries.reduce((sum, e) => sum + e.pinnedBytes, 0);
    console.log(`${entries.length} entries in ${dir}${pinned ? `; ${describeBytes(pinned)} pinned by stale entries (vscan cache clean frees it)` : ''}`);
  } else {
    const freed = entries.reduce((sum, e) => sum + e.graphBytes + e.pinnedBytes, 0);
    console.log(`removed ${entries.length} entries from ${dir}, freeing ${describeBytes(freed)}${values.all ? '' : ' (stale entries only; --all removes every entry)'}`);
  }
  return 0;
}

/** `vscan model download/list` and `--model owner/name`, through node dist/cli.js against the mock Hub. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, vscanAsync } from '../helpers/cli';
import { type MockHub, startMockHub } from '../helpers/mockHub';
import { tempTinyCheckpoint } from '../helpers/tinyModel';
import { tempDir } from '../helpers/videos';

let hub: MockHub;
let tiny: string;
let env: NodeJS.ProcessEnv;
const REPO = 'owner/tiny-scan';

before(async () => {
  ({ tiny } = await tempTinyCheckpoint('vscan-hub-cli-', 6));
  await writeFile(join(tiny, 'LICENSE'), 'Business Source License 1.1\n');
  hub = await startMockHub([{ id: REPO, dir: tiny, license: 'bsl-1.1' }, { id: 'owner/private-scan', dir: tiny, private: true }]);
  // HF_HOME (not HF_HUB_CACHE): the cache is then HF_HOME/hub, as Python reads it.
  const home = await tempDir('vscan-hf-home-');
  env = { HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_CACHE: '', HF_HUB_OFFLINE: '', HF_TOKEN: '' };
});

after(async () => {
  await hub.close();
});

const oneLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('vscan: '));

test('model download shows size and licence, and off a terminal needs --yes', async () => {
  const refused = await vscanAsync(['model', 'download', REPO], { env });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, new RegExp(`^${REPO}@main \\(commit [0-9a-f]{12}\\): 9 files, [0-9.]+ KiB to download of [0-9.]+ KiB; licence bsl-1\\.1 \\(${hub.url}/${REPO}/blob/[0-9a-f]{40}/LICENSE\\)\n`));
  assert.deepEqual(oneLine(refused.stderr), [`vscan: ${REPO}: not asking off a terminal; pass --yes to agree to the ${/\d+(\.\d+)? KiB/.exec(refused.stderr)![0]} download and the licence (bsl-1.1)`]);

  const done = await vscanAsync(['model', 'download', REPO, '--yes'], { env });
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout.trim(), join(env.HF_HOME!, 'hub', 'models--owner--tiny-scan', 'snapshots', hub.commits.get(REPO)!));
  // Not a terminal: plain progress lines, the last at 100%.
  assert.match(done.stderr, /\n100% model\.safetensors: [0-9.]+ KiB of [0-9.]+ KiB, [0-9.]+ [KM]?i?B\/s, 0 s left\n$/);
});

test('model list shows what is cached, with sizes', async () => {
  const listed = await vscanAsync(['model', 'list'], { env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`^${REPO}  [0-9.]+ KiB\n  ${hub.commits.get(REPO)!.slice(0, 12)} \\(main\\)  `));
  const json = JSON.parse((await vscanAsync(['model', 'list', '--json'], { env })).stdout) as { cacheDir: string; models: { repo: string; bytes: number; revisions: { complete: boolean }[] }[] };
  assert.equal(json.cacheDir, join(env.HF_HOME!, 'hub'));
  assert.equal(json.models[0].repo, REPO);
  assert.ok(json.models[0].bytes > 600_000);
  assert.equal(json.models[0].revisions[0].complete, true);
});

test('--model owner/name runs from the cache, offline, without asking the Hub', async () => {
  const before = hub.requests.length;
  const offline = { ...env, HF_HUB_OFFLINE: '1' };
  const fromHub = await vscanAsync(['generate', '--model', REPO, '--prompt', 'hello', '--max-new-tokens', '4', '--ep', 'cpu', '--json'], { env: offline });
  assert.equal(fromHub.code, 0, fromHub.stderr);
  const fromFolder = await vscanAsync(['generate', '--model', tiny, '--prompt', 'hello', '--max-new-tokens', '4', '--ep', 'cpu', '--json'], { env: offline });
  assert.deepEqual(JSON.parse(fromHub.stdout).ids, JSON.parse(fromFolder.stdout).ids);
  const inspected = await vscanAsync(['model', 'inspect', `${REPO}@main`, '--json'], { env: offline });
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.equal(JSON.parse(inspected.stdout).dir, join(env.HF_HOME!, 'hub', 'models--owner--tiny-scan', 'snapshots', hub.commits.get(REPO)!));
  const again = await vscanAsync(['model', 'download', REPO], { env: offline });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(hub.requests.slice(before), [], 'offline: no request reached the Hub');
});

test('a model not downloaded fails in one line saying how to get it; offline, saying what is missing', async () => {
  const missing = await vscanAsync(['model', 'inspect', 'owner/elsewhere'], { env });
  assert.equal(missing.code, 2);
  assert.deepEqual(missing.stderr.trim().split('\n'), [`vscan: owner/elsewhere is not downloaded (nothing cached in ${join(env.HF_HOME!, 'hub')}): download it with "vscan model download owner/elsewhere" (or Download Model in VS Code)`]);
  const offline = await vscanAsync(['model', 'download', 'owner/elsewhere', '--yes'], { env: { ...env, HF_HUB_OFFLINE: '1' } });
  assert.equal(offline.code, 2);
  assert.deepEqual(offline.stderr.trim().split('\n'), [`vscan: owner/elsewhere@main: HF_HUB_OFFLINE is set and nothing is cached in ${join(env.HF_HOME!, 'hub')}`]);
  const notThere = await vscanAsync(['model', 'download', 'owner/elsewhere', '--yes'], { env });
  assert.equal(notThere.code, 2);
  assert.equal(notThere.stderr.trim().split('\n').length, 1, notThere.stderr);
});

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt. */
function onTerminal(args: string[], answer: string, childEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...childEnv }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('[y/N]') && !child.stdin.writableEnded) child.stdin.end(`${answer}\n`);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('on a terminal, model download asks once; no declines, yes downloads with a progress bar', async () => {
  const fresh = { ...env, HF_HOME: await tempDir('vscan-hf-home-tty-') };
  const declined = await onTerminal(['model', 'download', REPO], 'n', fresh);
  assert.equal(declined.code, 1, declined.output);
  assert.match(declined.output, /licence bsl-1\.1 .*\r?\n.*Download it and accept the licence\? \[y\/N\]/);
  assert.match(declined.output, /not downloaded/);
  const accepted = await onTerminal(['model', 'download', REPO], 'y', fresh);
  assert.equal(accepted.code, 0, accepted.output);
  // The bar is redrawn in place (carriage returns), ending full.
  assert.match(accepted.output, /\r\[#{24}\] 100% model\.safetensors: [0-9.]+ KiB of [0-9.]+ KiB/);
  assert.ok(accepted.output.includes(join(fresh.HF_HOME!, 'hub', 'models--owner--tiny-scan', 'snapshots', hub.commits.get(REPO)!)));
});

test('a cache Python wrote (blobs, relative links, refs/main) is read as ours', async () => {
  const home = await tempDir('vscan-hf-python-');
  const repo = join(home, 'hub', 'models--someone--py-scan');
  const commit = 'c0ffee'.padEnd(40, '0');
  const snapshot = join(repo, 'snapshots', commit);
  await mkdir(join(repo, 'blobs'), { recursive: true });
  await mkdir(snapshot, { recursive: true });
  await mkdir(join(repo, 'refs'));
  await writeFile(join(repo, 'refs', 'main'), commit); // huggingface_hub writes the bare hash
  for (const name of await readdir(tiny)) {
    const content = await readFile(join(tiny, name));
    const etag = name.endsWith('.safetensors') ? createHash('sha256').update(content).digest('hex') : createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
    await writeFile(join(repo, 'blobs', etag), content);
    await symlink(`../../blobs/${etag}`, join(snapshot, name));
  }
  const pyEnv = { ...env, HF_HOME: home, HF_HUB_OFFLINE: '1' };
  const inspected = await vscanAsync(['model', 'inspect', 'someone/py-scan', '--json'], { env: pyEnv });
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.equal(JSON.parse(inspected.stdout).dir, snapshot);
  const listed = await vscanAsync(['model', 'list'], { env: pyEnv });
  assert.match(listed.stdout, /^someone\/py-scan  [0-9.]+ KiB\n  c0ffee000000 \(main\)  /);
});

test('HF_TOKEN opens a private repo; without it the 401 is one line saying a token is needed', async () => {
  const home = { ...env, HF_HOME: await tempDir('vscan-hf-home-private-') };
  const refused = await vscanAsync(['model', 'download', 'owner/private-scan', '--yes'], { env: home });
  assert.equal(refused.code, 2);
  assert.deepEqual(refused.stderr.trim().split('\n'), ['vscan: owner/private-scan@main: the Hub answered 401 (unauthorized): this repo needs a Hugging Face token (set HF_TOKEN or pass --token)']);
  const done = await vscanAsync(['model', 'download', 'owner/private-scan', '--yes'], { env: { ...home, HF_TOKEN: hub.token } });
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /models--owner--private-scan\/snapshots\/[0-9a-f]{40}\n$/);
});

test('with no network, model download falls back to a complete cached snapshot', async () => {
  const closed = await startMockHub([]);
  await closed.close();
  const result = await vscanAsync(['model', 'download', REPO], { env: { ...env, HF_ENDPOINT: closed.url } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), join(env.HF_HOME!, 'hub', 'models--owner--tiny-scan', 'snapshots', hub.commits.get(REPO)!));
  assert.equal(result.stderr, `${REPO}@main: cannot reach the Hub at ${closed.url} (ECONNREFUSED); using the cached snapshot\n`);
});

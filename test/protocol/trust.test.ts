/**
 * Workspace trust and the probe processes over the protocol: untrusted, the server starts
 * no ffprobe (checked by a logging wrapper around the real one); probes run a few at a
 * time; none outlives the server; only regular files are probed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, chmod, readFile, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ResponseError } from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';
import { makeVideo, probeThroughWorker, tempDir } from '../helpers/videos';
import { CaptionRequest, WorkspaceTrustNotification } from '../../server/src/lsp/protocol';
import { PROBES_AT_ONCE } from '../../server/src/video/probe';

let dir: string;

before(async () => {
  dir = await tempDir();
  await makeVideo(join(dir, 'clip.mp4'), 3);
});

/** A configured ffprobe (a wrapper around the media worker's probe) that logs `start` and `end` lines to `log`. */
async function loggingFfprobe(name: string): Promise<{ path: string; log: string }> {
  const path = join(dir, name);
  const log = `${path}.log`;
  await writeFile(path, `#!/bin/sh\necho start >> "${log}"\n${probeThroughWorker()}\nrc=$?\necho end >> "${log}"\nexit $rc\n`);
  await chmod(path, 0o755);
  return { path, log };
}

const codesOf = (p: { diagnostics: { code?: string | number }[] }) => p.diagnostics.map((d) => d.code);

/** Waits (bounded) until `check` holds; for effects outside the protocol (files, processes). */
async function eventually(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  for (const started = Date.now(); !check(); await delay(50)) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
  }
}

test('untrusted: no ffprobe runs, range checks are skipped with one information diagnostic; granting trust probes', async () => {
  const ffprobe = await loggingFfprobe('untrusted-ffprobe');
  const client = await TestClient.start({ ffprobe: { path: ffprobe.path } }, 'stdio', { initialization: { trusted: false } });
  try {
    const uri = pathToFileURL(join(dir, 'trust.vscan')).href;
    await client.open(uri, 'Video: clip.mp4\nScene: x\nEvents:\n<0.0 - 9.0> past the end of a 3 s video\n');
    const untrusted = await client.diagnostics(uri);
    assert.deepEqual(codesOf(untrusted), ['untrusted-workspace']);
    assert.equal(untrusted.diagnostics[0].severity, 3, 'information');
    assert.match(untrusted.diagnostics[0].message as string, /not trusted.*clip\.mp4 is not probed/);
    // A target outside the workspace, as a cloned repository might name it.
    const outside = pathToFileURL(join(dir, 'outside.vscan')).href;
    await client.open(outside, 'Video: /etc/passwd\nScene: x\nEvents:\n<0 - 1> a\n');
    assert.deepEqual(codesOf(await client.diagnostics(outside)), ['untrusted-workspace']);
    const caption = client.connection.sendRequest(CaptionRequest.type, { video: pathToFileURL(join(dir, 'clip.mp4')).href });
    await assert.rejects(caption, (error: ResponseError<unknown>) => /not trusted/.test(error.message));
    assert.equal(existsSync(ffprobe.log), false, 'no ffprobe was started while untrusted');

    await client.connection.sendNotification(WorkspaceTrustNotification.type, { trusted: true });
    const trusted = await client.diagnostics(uri, (p) => codesOf(p).includes('out-of-range'));
    assert.deepEqual(codesOf(trusted), ['out-of-range']);
    assert.match(await readFile(ffprobe.log, 'utf8'), /start/);
  } finally {
    await client.stop();
  }
});

test(`200 open .vscan files run at most ${PROBES_AT_ONCE} ffprobe processes at once, and every one is checked`, async () => {
  const ffprobe = await loggingFfprobe('pool-ffprobe');
  const client = await TestClient.start({ ffprobe: { path: ffprobe.path } });
  try {
    const uris: string[] = [];
    for (let i = 0; i < 200; i++) {
      await copyFile(join(dir, 'clip.mp4'), join(dir, `many-${i}.mp4`));
      uris.push(pathToFileURL(join(dir, `many-${i}.vscan`)).href);
    }
    await Promise.all(uris.map((uri) => client.open(uri, 'Scene: x\nEvents:\n<0.0 - 9.0> past the end\n')));
    for (const uri of uris) await client.diagnostics(uri, (p) => codesOf(p).includes('out-of-range'), 120_000);
    let running = 0;
    let most = 0;
    const lines = (await readFile(ffprobe.log, 'utf8')).trim().split('\n');
    for (const line of lines) {
      running += line === 'start' ? 1 : -1;
      most = Math.max(most, running);
    }
    assert.equal(lines.filter((l) => l === 'start').length, 200, 'one probe per video');
    assert.ok(most <= PROBES_AT_ONCE, `${most} ffprobe processes ran at once`);
  } finally {
    await client.stop();
  }
});

/** Whether a process runs (a zombie, killed but not yet reaped, does not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A server whose probe of clip.mp4 hangs (an ffprobe that sleeps); returns the client and that process's pid. */
async function serverWithStuckProbe(name: string): Promise<{ client: TestClient; pid: number }> {
  const pidFile = join(dir, `${name}.pid`);
  const stuck = join(dir, `${name}-ffprobe`);
  await writeFile(stuck, `#!/bin/sh\necho $$ > "${pidFile}"\nexec sleep 600\n`);
  await chmod(stuck, 0o755);
  const client = await TestClient.start({ ffprobe: { path: stuck } });
  await client.open(pathToFileURL(join(dir, 'clip.vscan')).href, 'Scene: x\nEvents:\n<0 - 1> a\n');
  await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 'the stuck ffprobe started');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(alive(pid));
  return { client, pid };
}

test('an ffprobe still running when the server exits is killed with it', async () => {
  const { client, pid } = await serverWithStuckProbe('stuck');
  assert.equal(await client.stop(), 0);
  await eventually(() => !alive(pid), `ffprobe ${pid} ended with the server`);
});

test('a server stopped by SIGTERM takes its ffprobe with it too', async () => {
  const { client, pid } = await serverWithStuckProbe('terminated');
  const exited = new Promise<number | null>((resolve) => client.process.once('exit', (code) => resolve(code)));
  client.process.kill('SIGTERM');
  assert.equal(await exited, 143);
  client.connection.dispose();
  await eventually(() => !alive(pid), `ffprobe ${pid} ended with the server`);
});

test('the first diagnostics already use the settings the server pulls (the configured ffprobe probes, not the packaged one)', async () => {
  const ffprobe = await loggingFfprobe('pulled-ffprobe');
  const client = await TestClient.start(undefined, 'stdio', { configuration: { ffprobe: { path: ffprobe.path } } });
  try {
    const uri = pathToFileURL(join(dir, 'pulled.vscan')).href;
    await client.open(uri, 'Video: clip.mp4\nScene: x\nEvents:\n<0.0 - 9.0> past the end\n');
    await client.diagnostics(uri, (p) => codesOf(p).includes('out-of-range'));
    assert.match(await readFile(ffprobe.log, 'utf8'), /start/);
  } finally {
    await client.stop();
  }
});

test('a FIFO named like a video is refused by name, never handed to ffprobe', async () => {
  execFileSync('mkfifo', [join(dir, 'pipe.mp4')]);
  const ffprobe = await loggingFfprobe('fifo-ffprobe');
  const client = await TestClient.start({ ffprobe: { path: ffprobe.path } });
  try {
    for (const [name, text] of [['pipe.vscan', 'Scene: x\nEvents:\n<0 - 1> a\n'], ['named-pipe.vscan', 'Video: pipe.mp4\nScene: x\nEvents:\n<0 - 1> a\n']]) {
      const uri = pathToFileURL(join(dir, name)).href;
      await client.open(uri, text);
      const result = await client.diagnostics(uri, (p) => codesOf(p).includes('unreadable-video'));
      assert.match(result.diagnostics[0].message as string, /pipe\.mp4: not a regular file/);
    }
    assert.equal(existsSync(ffprobe.log), false);
  } finally {
    await client.stop();
  }
});

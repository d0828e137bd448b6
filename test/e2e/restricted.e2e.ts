/**
 * Restricted Mode end to end: code-server with workspace trust on and the sample folder
 * not trusted. Opening annotations and their previews must start no ffprobe/ffmpeg: a
 * sampler reads the process table (/proc) throughout and records every process whose
 * command line names ffprobe, ffmpeg or the media worker (dist/media.js) under this test's
 * data folder (the installed extension's worker, and an ffprobe wrapper set in the user
 * settings that lingers a second before probing with the packaged worker, so no probe is too
 * quick to be seen). Granting
 * trust then probes, and the same sampler sees it. The preview loads no media meanwhile: it
 * says why, draws the timeline from the text, and its *Manage Workspace Trust* link grants it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { makeSampleVideos } from '../sample-workspace/make-videos';
import { codeServer, node24, root, runCodeServer, shots, vsix } from './workbench';

const PORT = 8000 + Math.floor(Math.random() * 900);

let server: ChildProcess;
let browser: Browser;
let page: Page;
let data: string;

/** Command lines of running processes that start a program from `folder` and name ffprobe, ffmpeg or the media worker. */
function mediaProcesses(folder: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // it ended meanwhile
    }
    if (cmdline.includes(folder) && /ff(probe|mpeg)|media\.js/.test(cmdline)) found.push(`${pid}: ${cmdline.slice(0, 200)}`);
  }
  return found;
}

/** Samples the process table every 20 ms until stopped; returns what it saw. */
function sampleProcesses(folder: string): { stop: () => string[] } {
  const seen = new Set<string>();
  const timer = setInterval(() => { for (const p of mediaProcesses(folder)) seen.add(p); }, 20);
  return { stop: () => { clearInterval(timer); return [...seen]; } };
}


async function palette(command: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 20_000 });
    await input.fill(`>${command}`);
    try {
      await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${command}"]`, { timeout: 10_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (error) {
      await page.keyboard.press('Escape');
      if (attempt === 3) throw error;
    }
  }
}

async function openFile(name: string): Promise<void> {
  await page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`).first().dblclick();
  await page.waitForSelector(`.tab.active[aria-label*="${name}"]`, { timeout: 20_000 });
}

const problemsFilter = () => page.locator('.markers-panel-container input[placeholder^="Filter"], .viewpane-filter input[placeholder^="Filter"]').first();

/**
 * Waits until the Problems view, filtered by `filter`, shows `pattern` (it is a virtual
 * list: rows off screen are not in the page). The filter is typed again on each try: typed
 * while the view is still settling, it can be reset.
 */
async function problemsShow(filter: string, pattern: RegExp, tries = 6): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await problemsFilter().fill(filter);
    try {
      await page.waitForFunction((source) => new RegExp(source).test(document.querySelector('.markers-panel')?.textContent ?? ''), pattern.source, { timeout: 10_000 });
      return;
    } catch (error) {
      if (attempt === tries) throw error;
    }
  }
}

async function problemsText(filter: string): Promise<string> {
  await problemsFilter().fill(filter);
  await page.waitForFunction((text) => (document.querySelector('.markers-panel')?.textContent ?? '').length > 0 && (document.querySelector('input[placeholder^="Filter"]') as HTMLInputElement | null)?.value === text, filter, { timeout: 10_000 });
  await page.waitForTimeout(500); // the filter applies on a short debounce
  return (await page.locator('.markers-panel').textContent()) ?? '';
}

/** The preview's inner webview frame once it shows the timeline of `name`. */
async function previewFrame(name: string): Promise<Frame> {
  for (let i = 0; i < 150; i++) {
    for (const frame of page.frames()) {
      const ready = await frame.evaluate((n) => Boolean(document.getElementById('timeline') && document.body?.dataset.document?.endsWith(`/${n}`)
        && (window as unknown as { videoScanPreview?: unknown }).videoScanPreview), name).catch(() => false);
      if (ready) return frame;
    }
    await page.waitForTimeout(200);
  }
  await page.screenshot({ path: join(shots, `failed-restricted-preview-${name}.png`) });
  throw new Error(`the preview of ${name} did not appear`);
}

type PreviewWindow = { videoScanPreview: { events(): unknown[] } };

before(async () => {
  mkdirSync(shots, { recursive: true });
  await makeSampleVideos();
  const workspace = mkdtempSync(join(tmpdir(), 'vscan-e2e-restricted-'));
  cpSync(join(root, 'test', 'sample-workspace'), workspace, { recursive: true });
  data = mkdtempSync(join(tmpdir(), 'vscan-e2e-restricted-data-'));
  const extensions = join(data, 'extensions');
  const env = { ...process.env, PATH: `${join(node24, '..')}:${process.env.PATH}` };
  await runCodeServer(['--user-data-dir', data, '--extensions-dir', extensions, '--install-extension', vsix, '--force'], env);
  const packaged = readdirSync(extensions, { recursive: true, encoding: 'utf8' }).find((p) => p.endsWith(join('dist', 'media.js')));
  assert.ok(packaged, 'the extension ships the media worker');
  // An "ffprobe" that waits a second, then probes the file (its last argument) with the
  // packaged media worker.
  const slowFfprobe = join(data, 'slow-ffprobe');
  writeFileSync(slowFfprobe, `#!/bin/sh\nsleep 1\nfor last; do :; done\nexec "${process.execPath}" "${join(extensions, packaged)}" probe "$last"\n`, { mode: 0o755 });
  // videoScan.ffprobe.path is machine-scoped: in code-server's remote window it applies from
  // the remote's Machine settings, not from User settings.
  mkdirSync(join(data, 'Machine'), { recursive: true });
  writeFileSync(join(data, 'Machine', 'settings.json'), JSON.stringify({ 'videoScan.ffprobe.path': slowFfprobe }));
  mkdirSync(join(data, 'User'), { recursive: true });
  writeFileSync(join(data, 'User', 'settings.json'), JSON.stringify({
    // Trust on, and no prompt: the folder opens in Restricted Mode.
    'security.workspace.trust.enabled': true,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'never',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'update.mode': 'none',
  }));
  server = spawn(node24, [codeServer, '--auth', 'none', '--bind-addr', `127.0.0.1:${PORT}`, '--disable-telemetry', '--disable-update-check',
    '--user-data-dir', data, '--extensions-dir', extensions, workspace], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('code-server did not start')), 60_000);
    const onData = (d: Buffer) => { if (d.toString().includes('HTTP server listening')) { clearTimeout(timer); resolve(); } };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://127.0.0.1:${PORT}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGKILL');
});

test('Restricted Mode: annotations and previews start no ffprobe or ffmpeg; granting trust probes', { timeout: 240_000 }, async () => {
  const sampler = sampleProcesses(data);
  let seen: string[];
  let preview: Frame;
  try {
    await openFile('kitchen.vscan');
    await openFile('problems.vscan');
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel').waitFor({ timeout: 30_000 });
    // The server answered (its syntax diagnostics are there) and said why it checked no range.
    // Matched on the code beside the message: the filter's highlight splits (and may elide) the message.
    await problemsShow('Range checks are skipped', /untrusted-workspace/);
    await problemsShow('before it starts', /reversed-span/);
    await openFile('kitchen.vscan');
    await palette('video-scan: Open Preview to the Side');
    preview = await previewFrame('kitchen.vscan');
    // The timeline is drawn from the text; the video is not loaded, and the panel says why.
    await preview.waitForFunction(() => (window as unknown as PreviewWindow).videoScanPreview.events().length === 4, undefined, { timeout: 20_000 });
    await page.waitForTimeout(3000); // the preview would probe right after opening
  } finally {
    seen = sampler.stop();
    await page.screenshot({ path: join(shots, 'restricted-mode.png') });
  }
  assert.deepEqual(seen, [], 'no ffprobe/ffmpeg process from the extension ran in Restricted Mode');
  const media = await preview.evaluate(() => Array.from(document.querySelectorAll('video, audio, source, img')).map((e) => ({ tag: e.tagName, src: e.getAttribute('src'), hidden: (e as HTMLElement).hidden })));
  assert.deepEqual(media, [{ tag: 'VIDEO', src: null, hidden: true }], 'no media element with a source in Restricted Mode');
  const message = (await preview.locator('#video-message').textContent()) ?? '';
  assert.match(message, /Restricted Mode: the preview does not load kitchen\.mp4/);
  assert.match(message, /Manage Workspace Trust/);
  assert.doesNotMatch(await problemsText('beyond the end'), /out-of-range/, 'no range check without a probe');

  // Grant trust as a user does; the server probes now, and the range error appears.
  const control = sampleProcesses(data);
  let granted: string[];
  try {
    // The preview's own link opens the trust editor.
    await preview!.locator('#video-message a', { hasText: 'Manage Workspace Trust' }).click();
    const trust = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
    await trust.click({ timeout: 20_000 });
    await page.locator('.workspace-trust-editor', { hasText: 'You trust this folder' }).waitFor({ timeout: 20_000 });
    // The trust editor opens as a modal over the workbench: close it (Escape, or its close button when focus is elsewhere).
    const modal = page.locator('.monaco-modal-editor-block');
    for (let i = 0; i < 3 && (await modal.count()) && (await modal.first().isVisible()); i++) {
      await page.keyboard.press('Escape');
      if (await modal.first().waitFor({ state: 'hidden', timeout: 2_000 }).then(() => true, () => false)) break;
      await modal.locator('.codicon-close, [aria-label^="Close"]').first().click({ timeout: 2_000 }).catch(() => undefined);
    }
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel').waitFor({ timeout: 30_000 });
    await problemsShow('beyond the end', /out-of-range/);
    // Trusted now, the same preview loads the video.
    await page.locator('.tab[aria-label^="kitchen.vscan"]').first().click();
    preview = await previewFrame('kitchen.vscan');
    await preview.waitForFunction(() => { const v = document.querySelector('video'); return Boolean(v && !v.hidden && v.readyState >= 1); }, undefined, { timeout: 30_000 });
  } finally {
    granted = control.stop();
    await page.screenshot({ path: join(shots, 'restricted-mode-trusted.png') });
  }
  assert.ok(granted.some((p) => p.includes('ffprobe')), 'once trusted, ffprobe ran (the sampler sees it)');
});

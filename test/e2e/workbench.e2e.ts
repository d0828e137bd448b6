/**
 * End to end in a real VS Code workbench: code-server (from npm, set up by setup.sh) with
 * the built .vsix installed, driven by playwright-core in Debian's chromium. Opens the
 * sample workspace, sees the diagnostics in the Problems view, opens the preview, moves the
 * cursor to an event and checks the video's currentTime, clicks a timeline bar and checks
 * the cursor, captions a video from the Explorer's context menu with a tiny checkpoint, finds
 * an event from the palette, installs GPU support from a loopback NuGet feed, and saves
 * screenshots to test-results/e2e/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { makeSampleVideos } from '../sample-workspace/make-videos';
import { makeFakeNupkg, startLoopbackFeed, type LoopbackFeed } from '../helpers/loopbackNuget';
import { bundledOnnxRuntime, installFolderName } from '../../server/src/model/acquire/runtimeLayout';
import { root, Workbench } from './workbench';

let workbench: Workbench;
let page: Page;
let workspace: string;
let feed: LoopbackFeed;

const shot = (name: string) => workbench.shot(name);
const palette = (command: string) => workbench.palette(command);
const openFile = (name: string) => workbench.openFile(name);

/** The preview's inner webview frame (VS Code nests the content in an iframe in an iframe). */
async function previewFrame(): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    for (const frame of page.frames()) {
      if (await frame.$('#timeline').catch(() => null)) return frame;
    }
    await page.waitForTimeout(200);
  }
  throw new Error('the preview webview did not appear');
}

before(async () => {
  await makeSampleVideos();
  workspace = mkdtempSync(join(tmpdir(), 'vscan-e2e-workspace-'));
  cpSync(join(root, 'test', 'sample-workspace'), workspace, { recursive: true });
  // A video with no annotation yet, for Caption Video.
  copyFileSync(join(workspace, 'kitchen.mp4'), join(workspace, 'fresh.mp4'));
  const model = join(mkdtempSync(join(tmpdir(), 'vscan-e2e-model-')), 'tiny-model');
  await writeTinyCheckpoint(model, { seed: 3 });
  // Install GPU Support fetches from this feed (VSCAN_NUGET_FEED reaches the extension host).
  const ortVersion = bundledOnnxRuntime().version;
  feed = await startLoopbackFeed(ortVersion, await makeFakeNupkg(ortVersion));
  workbench = await Workbench.start({
    workspace,
    settings: { 'videoScan.model.executionProvider': 'cpu', 'videoScan.model.maxNewTokens': 8 },
    machineSettings: { 'videoScan.model.checkpoint': model },
    env: { VSCAN_NUGET_FEED: feed.index },
  });
  page = workbench.page;
});

after(async () => {
  await workbench?.close();
  await feed?.close();
});

test('the Problems view shows the .vscan diagnostics', { timeout: 120_000 }, async () => {
  await openFile('problems.vscan');
  await page.keyboard.press('Control+Shift+M');
  const problems = page.locator('.markers-panel');
  await problems.waitFor({ timeout: 30_000 });
  const expectedMessages = ['Overlaps', 'ends (3.5) before it starts (4.0)', 'beyond the end of the video', 'Malformed start time'];
  // The out-of-range check needs the video's duration: when ffprobe is slower than the
  // server's probe wait, diagnostics are published first without it and refreshed when it lands.
  await page
    .waitForFunction((all) => all.every((m) => (document.querySelector('.markers-panel')?.textContent ?? '').includes(m)), expectedMessages, { timeout: 60_000 })
    .catch(() => undefined); // the assertions below name what is missing
  const text = (await problems.textContent()) ?? '';
  for (const expected of expectedMessages) {
    assert.ok(text.includes(expected), `"${expected}" in the Problems view`);
  }
  await shot('problems');
});

test('the preview seeks to the event under the cursor; a timeline bar moves the cursor; a clicked time seeks', { timeout: 120_000 }, async () => {
  await openFile('kitchen.vscan');
  await palette('video-scan: Open Preview to the Side');
  const frame = await previewFrame();
  await frame.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement | null)?.readyState! >= 1, undefined, { timeout: 30_000 });
  // Focus the editor and go to line 9: <4.5 - 7.0> the counter runs on to 6.
  await page.locator('.editor-group-container.active .monaco-editor textarea').first().focus();
  await page.keyboard.press('Control+G');
  await page.keyboard.type('9');
  await page.keyboard.press('Enter');
  await frame.waitForFunction(() => Math.abs((document.querySelector('video') as HTMLVideoElement).currentTime - 4.5) < 0.05, undefined, { timeout: 15_000 });
  await shot('preview-seek');
  // Click the first bar (<0.0 - 2.0>, line 7): the cursor goes there.
  await frame.click('.bar >> nth=0');
  try {
    // The kitchen.vscan editor's active line number becomes 7.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.line-numbers.active-line-number')).some((n) => n.textContent?.trim() === '7'), undefined, { timeout: 15_000 });
  } finally {
    await shot('preview-bar-click');
  }
  // Ctrl+click a time in the editor (a document link running videoScan.seek): line 10's end, 9.5 s.
  // Focus comes back to the editor first (the bar click left it in the preview's group).
  // The click is made with the mouse itself, as a user's: Playwright's element click checks
  // that the element is still the one under the pointer, and holding Ctrl over a link makes
  // the editor re-render that line, so the check failed now and then ("<html> intercepts
  // pointer events") although the click itself would have landed.
  await page.locator('.tab[aria-label^="kitchen.vscan"]').first().click();
  const link = page.locator('.editor-group-container .view-line span.detected-link', { hasText: '9.5' }).first();
  try {
    const box = await link.boundingBox();
    assert.ok(box, 'the 9.5 link is on screen');
    await page.keyboard.down('Control');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.up();
    await page.keyboard.up('Control');
    await frame.waitForFunction(() => Math.abs((document.querySelector('video') as HTMLVideoElement).currentTime - 9.5) < 0.05, undefined, { timeout: 15_000 });
  } finally {
    await shot('timestamp-click');
  }
});

test('Caption Video from the Explorer\'s context menu writes the .vscan beside the video and opens it', { timeout: 180_000 }, async () => {
  await page.locator('.explorer-folders-view .monaco-list-row[aria-label^="fresh.mp4"]').first().click({ button: 'right' });
  try {
    await workbench.menuItem('Caption Video');
    // The tiny checkpoint answers noise, so the file keeps it under a comment; it still opens.
    await page.waitForSelector('.tab.active[aria-label^="fresh.vscan"]', { timeout: 150_000 });
  } finally {
    await shot('caption-video');
  }
  assert.match(readFileSync(join(workspace, 'fresh.vscan'), 'utf8'), /^Video: fresh\.mp4\n/);
});

test('Find Event from the palette asks for the event, runs the model on the active .vscan\'s video and reports the answer', { timeout: 180_000 }, async () => {
  // fresh.vscan (from the caption test) is the active editor; its video is fresh.mp4.
  await page.waitForSelector('.tab.active[aria-label^="fresh.vscan"]', { timeout: 20_000 });
  await palette('video-scan: Find Event');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  await input.fill('the counter shows two');
  await page.keyboard.press('Enter');
  // The tiny checkpoint's answer is noise: either a span ("…": 1.0–2.0 s) or the message
  // that it had none. (The progress toast, "Finding "…": queued", matches neither.)
  const notice = page.locator('.notification-toast', { hasText: /No span in the model's answer|"the counter shows two": [\d:.]+–[\d:.]+ s/ });
  try {
    await notice.first().waitFor({ timeout: 150_000 });
  } finally {
    await shot('find-event');
  }
});

test('Install GPU Support (CUDA) from the palette downloads the verified providers into the extension\'s global storage', { timeout: 120_000 }, async () => {
  await palette('video-scan: Install GPU Support (CUDA)');
  const done = page.locator('.notification-toast', { hasText: 'GPU support (CUDA) installed in' });
  try {
    await done.first().waitFor({ timeout: 100_000 });
  } finally {
    await shot('install-cuda');
  }
  assert.ok(await done.first().locator('.monaco-button', { hasText: 'Reload Window' }).count(), 'offers to reload');
  assert.ok(feed.requests.some((r) => r.endsWith('.nupkg')), 'the package came from the feed');
  const folder = join(workbench.userData, 'User', 'globalStorage', 'video-scan.video-scan', 'runtime', installFolderName(bundledOnnxRuntime().version, 'cuda'));
  assert.ok(existsSync(join(folder, 'install.json')), `${folder} is complete`);
  assert.ok(existsSync(join(folder, 'libonnxruntime_providers_cuda.so')) && existsSync(join(folder, 'onnxruntime_binding.node')));
});

/**
 * End to end, a new user's first caption in a real workbench (code-server + chromium): the
 * old model setting is moved on activation, the walkthrough shows its steps, the status bar
 * item and its menu, Select Model… with a Hub id served by a loopback mock Hub, and Caption
 * Video asking consent (size, licence), downloading from the mock (slowed down by a
 * throttling proxy so that its progress shows; cancelled once, then resumed without asking
 * again) and writing the .vscan from the downloaded snapshot; Check GPU; the walkthrough's
 * sample video and preview steps. Screenshots in light and dark themes in test-results/e2e/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { type MockHub, startMockHub } from '../helpers/mockHub';
import { startThrottlingProxy, type ThrottlingProxy } from '../helpers/throttlingProxy';
import { makeSampleVideos } from '../sample-workspace/make-videos';
import { root, Workbench } from './workbench';

const REPO = 'video-scan-test/tiny';
const LEGACY_FOLDER = '/opt/models/legacy-video-scan';
/** The tiny checkpoint is ~650 KB: at this rate its download takes several seconds, long enough to watch and cancel. */
const BYTES_PER_SECOND = 60_000;

let workbench: Workbench;
let page: Page;
let workspace: string;
let hfHome: string;
let hub: MockHub;
let proxy: ThrottlingProxy;

/**
 * Switches between the light and dark themes the way a user's system does: the workbench
 * follows the browser's colour scheme (window.autoDetectColorScheme), which Playwright
 * changes without touching what is open (menus, dialogs, notifications stay).
 */
async function theme(scheme: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: scheme });
  await page.waitForFunction((dark) => document.querySelector('.monaco-workbench')?.classList.contains(dark ? 'vs-dark' : 'vs') ?? false, scheme === 'dark', { timeout: 20_000 });
  await page.waitForTimeout(300); // the repaint after the class change
}

/** The same view in both themes, as a user of either sees it. */
async function shotBothThemes(name: string): Promise<void> {
  await theme('light');
  await workbench.shot(`${name}-light`);
  await theme('dark');
  await workbench.shot(`${name}-dark`);
  await theme('light');
}

/** Waits until some frame of the page (webviews are frames in frames) shows `text`. */
async function waitForFrameText(text: string, timeoutMs: number): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 500) {
    for (const frame of page.frames()) {
      if (await frame.evaluate((t) => document.body?.innerText.includes(t) ?? false, text).catch(() => false)) return;
    }
    await page.waitForTimeout(500);
  }
  await workbench.shot(`failed-frame-text-${text.replace(/\W+/g, '-')}`);
  throw new Error(`no frame shows "${text}" after ${timeoutMs} ms`);
}

const toast = (text: string | RegExp) => page.locator('.notification-toast', { hasText: text });

before(async () => {
  await makeSampleVideos();
  workspace = mkdtempSync(join(tmpdir(), 'vscan-e2e-onboard-'));
  copyFileSync(join(root, 'test', 'sample-workspace', 'kitchen.mp4'), join(workspace, 'clip.mp4'));
  copyFileSync(join(root, 'test', 'sample-workspace', 'kitchen.mp4'), join(workspace, 'street.mp4'));
  copyFileSync(join(root, 'test', 'sample-workspace', 'kitchen.vscan'), join(workspace, 'kitchen.vscan'));
  copyFileSync(join(root, 'test', 'sample-workspace', 'kitchen.mp4'), join(workspace, 'kitchen.mp4'));
  const repoDir = join(mkdtempSync(join(tmpdir(), 'vscan-e2e-repo-')), 'tiny');
  await writeTinyCheckpoint(repoDir, { seed: 3 });
  hub = await startMockHub([{ id: REPO, dir: repoDir, license: 'bsl-1.1' }]);
  proxy = await startThrottlingProxy(hub.url, BYTES_PER_SECOND);
  hfHome = mkdtempSync(join(tmpdir(), 'vscan-e2e-hf-'));
  workbench = await Workbench.start({
    workspace,
    env: { HF_ENDPOINT: proxy.url, HF_HOME: hfHome, HF_TOKEN: '', HF_HUB_OFFLINE: '' },
    settings: {
      'window.autoDetectColorScheme': true,
      'workbench.preferredLightColorTheme': 'Default Light Modern',
      'workbench.preferredDarkColorTheme': 'Default Dark Modern',
      'videoScan.model.executionProvider': 'cpu',
      'videoScan.model.maxNewTokens': 8,
    },
    // The setting of an older version (machine-overridable, so in code-server's machine settings): moved to videoScan.model.checkpoint on activation.
    machineSettings: { 'videoScan.model.path': LEGACY_FOLDER },
  });
  page = workbench.page;
  await theme('light');
});

after(async () => {
  await workbench?.close();
  await proxy?.close();
  await hub?.close();
});

test('videoScan.model.path is moved to videoScan.model.checkpoint on activation, and the user is told in one line', { timeout: 120_000 }, async () => {
  // The extension activates at start-up (the workspace holds videos); the file changes when it has moved the key.
  const moved = () => { try { return workbench.userSettings('Machine')['videoScan.model.checkpoint'] !== undefined; } catch { return false; /* being written */ } };
  for (let i = 0; i < 120 && !moved(); i++) await page.waitForTimeout(500);
  // The notice may have left the toasts by now: the notification centre keeps it.
  await workbench.palette('Notifications: Show Notifications');
  await page.locator('.notification-list-item', { hasText: 'videoScan.model.path is now videoScan.model.checkpoint (moved in the user settings)' }).first().waitFor({ timeout: 20_000 });
  await workbench.shot('setting-moved');
  await page.keyboard.press('Escape');
  const settings = workbench.userSettings('Machine');
  assert.equal(settings['videoScan.model.checkpoint'], LEGACY_FOLDER);
  assert.equal('videoScan.model.path' in settings, false, 'the old key is cleared');
});

test('the walkthrough opens from the palette and shows its four steps', { timeout: 120_000 }, async () => {
  await workbench.palette('Welcome: Open Walkthrough');
  const walkthrough = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get Started with video-scan' }).first();
  await walkthrough.waitFor({ timeout: 20_000 });
  await walkthrough.click();
  for (const step of ['Get the model', 'Check the GPU', 'Caption the sample video', 'Open the preview']) {
    await page.locator('.getting-started-step', { hasText: step }).first().waitFor({ timeout: 20_000 });
  }
  // The first step is open, with its buttons.
  await page.locator('.getting-started-step.expanded', { hasText: 'Get the model' }).locator('.monaco-button', { hasText: 'Select Model…' }).waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('.getting-started-step .codicon-getting-started-step-checked').count(), 0, 'no step is done yet');
  // Without the side bar the walkthrough has room for the step's page beside the steps.
  await workbench.palette('View: Toggle Primary Side Bar Visibility');
  // The step's page (client/media/walkthrough/model.md) renders in a webview beside the steps.
  await waitForFrameText('Where it goes', 60_000);
  await shotBothThemes('walkthrough');
  await workbench.palette('View: Toggle Primary Side Bar Visibility');
});

test('the status bar shows the model on a .vscan (not on the walkthrough) and its menu lists the model actions', { timeout: 120_000 }, async () => {
  const item = page.locator('.statusbar-item[aria-label^="video-scan: model"]');
  assert.equal(await item.count(), 0, 'hidden while the walkthrough is the active tab');
  await workbench.openFile('kitchen.vscan');
  await item.waitFor({ timeout: 20_000 });
  assert.match((await item.textContent()) ?? '', /legacy-video-scan/);
  await item.hover();
  await page.locator('.monaco-hover', { hasText: 'Runs on: not loaded yet' }).first().waitFor({ timeout: 20_000 });
  await shotBothThemes('status-bar-tooltip');
  await item.click();
  const rows = page.locator('.quick-input-widget .monaco-list-row');
  await rows.filter({ hasText: 'Check GPU' }).first().waitFor({ timeout: 20_000 });
  const labels = await rows.allTextContents();
  // videoScan.installCuda is in this build, so the menu offers it too (it is shown only where the command exists).
  for (const expected of ['Select Model…', 'Download Model', 'Check GPU', 'Install GPU Support (CUDA)', 'Show Log']) assert.ok(labels.some((l) => l.includes(expected)), `${expected} in ${labels.join(' | ')}`);
  await shotBothThemes('status-bar-menu');
  await page.keyboard.press('Escape');
  // A video is ours too: the item stays when the video is the active tab.
  await workbench.openFile('clip.mp4');
  await item.waitFor({ timeout: 20_000 });
  // Keys typed while the video's webview has focus do not reach the workbench: back to the text editor.
  await page.locator('.tab', { hasText: 'kitchen.vscan' }).first().click();
  await page.waitForSelector('.tab.active[aria-label*="kitchen.vscan"]', { timeout: 20_000 });
});

test('Select Model… takes a Hub id from the mock Hub, validated as owner/name[@rev], and says it is not downloaded yet', { timeout: 120_000 }, async () => {
  await workbench.palette('video-scan: Select Model…');
  const enter = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Enter a Hub id…' }).first();
  await enter.waitFor({ timeout: 20_000 });
  // The default model is not on the mock Hub: its row says why once the server has answered.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'cudabenchmarktest/video-scan' }).filter({ hasNotText: 'checking…' }).first().waitFor({ timeout: 60_000 });
  await shotBothThemes('select-model');
  await enter.click();
  // The picker gives way to an input box (its prompt shows once it is there).
  await page.locator('.quick-input-widget', { hasText: 'optionally @revision (a branch, tag or commit)' }).first().waitFor({ timeout: 20_000 });
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill('not a hub id');
  await page.locator('.quick-input-widget', { hasText: 'is not a Hub id' }).first().waitFor({ timeout: 10_000 });
  await shotBothThemes('select-model-invalid-id');
  await input.fill(REPO);
  await page.keyboard.press('Enter');
  await toast(`video-scan uses ${REPO}: not downloaded yet`).first().waitFor({ timeout: 60_000 });
  assert.equal(workbench.userSettings('Machine')['videoScan.model.checkpoint'], REPO);
});

async function captionFromExplorer(video: string): Promise<void> {
  await page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${video}"]`).first().click({ button: 'right' });
  await workbench.menuItem('Caption Video');
}

test('Caption Video first asks to download (size and licence); the download shows its progress and can be cancelled', { timeout: 180_000 }, async () => {
  await captionFromExplorer('clip.mp4');
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 120_000 }).catch(async (error: unknown) => {
    await workbench.shot('failed-consent-modal');
    throw new Error(`${String(error)}\nextension log:\n${workbench.extensionLog()}\nmock Hub requests:\n${hub.requests.join('\n')}`);
  });
  const text = (await dialog.textContent()) ?? '';
  assert.match(text, new RegExp(`Download the model ${REPO}\\?`));
  assert.match(text, /KiB to download into the Hugging Face cache/);
  assert.match(text, /Business Source License 1\.1 \(bsl-1\.1\)/);
  assert.ok((await dialog.locator('.monaco-button', { hasText: 'Read the Licence' }).count()) === 1, 'a button to read the licence');
  await shotBothThemes('consent-modal');
  await dialog.locator('.monaco-button', { hasText: /^Download$/ }).click();
  // Bytes, rate and time left, as the server words them, in a cancellable notification.
  const progress = toast(new RegExp(`Downloading ${REPO}.*KiB of .*KiB/s`)).first();
  await progress.waitFor({ timeout: 60_000 });
  await shotBothThemes('download-progress');
  await progress.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
  await toast(`Download of ${REPO} cancelled`).first().waitFor({ timeout: 30_000 });
  assert.equal(existsSync(join(workspace, 'clip.vscan')), false, 'no caption without the model');
});

test('Caption Video again resumes the download without asking and writes the .vscan from the downloaded snapshot', { timeout: 300_000 }, async () => {
  await captionFromExplorer('clip.mp4');
  await toast(`Downloading ${REPO}`).first().waitFor({ timeout: 60_000 }).catch(async (error: unknown) => {
    await workbench.shot('failed-resume-download');
    throw new Error(`${String(error)}\nextension log:\n${workbench.extensionLog()}`);
  });
  assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'consent is asked once per repo');
  await page.waitForSelector('.tab.active[aria-label^="clip.vscan"]', { timeout: 240_000 }).catch(async (error: unknown) => {
    await workbench.shot('failed-caption-after-download');
    throw error;
  });
  await shotBothThemes('caption-from-hub');
  assert.match(readFileSync(join(workspace, 'clip.vscan'), 'utf8'), new RegExp(`^Video: clip\\.mp4\nModel: ${REPO}\n`));
  const snapshot = join(hfHome, 'hub', `models--${REPO.replace('/', '--')}`, 'snapshots', hub.commits.get(REPO)!);
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json']) assert.ok(existsSync(join(snapshot, file)), `${file} in ${snapshot}`);
  // The resumed download asked for the rest of a file, not all of it again.
  assert.ok(hub.requests.some((r) => /\[bytes=[1-9]\d*-\d*\]/.test(r)), `a ranged request among ${hub.requests.join('\n')}`);
  const status = page.locator('.statusbar-item[aria-label^="video-scan: model"]');
  assert.match((await status.textContent()) ?? '', /tiny · CPU/);
});

test('Check GPU loads the model and says where it runs and why', { timeout: 180_000 }, async () => {
  await workbench.palette('video-scan: Check GPU');
  await toast('video-scan runs on the CPU, fp32: videoScan.model.executionProvider is set to cpu').first().waitFor({ timeout: 120_000 });
  await shotBothThemes('check-gpu');
});

test('the walkthrough captions the sample video and opens its preview; every step is then done', { timeout: 300_000 }, async () => {
  await workbench.palette('Welcome: Open Walkthrough');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get Started with video-scan' }).first().click({ timeout: 20_000 });
  await page.locator('.getting-started-step', { hasText: 'Caption the sample video' }).first().click();
  await page.locator('.getting-started-step.expanded .monaco-button', { hasText: 'Caption the Sample Video' }).click({ timeout: 20_000 });
  await page.waitForSelector('.tab.active[aria-label^="video-scan-sample.vscan"]', { timeout: 240_000 });
  assert.ok(existsSync(join(workspace, 'video-scan-sample.mp4')));
  assert.match(readFileSync(join(workspace, 'video-scan-sample.vscan'), 'utf8'), /^Video: video-scan-sample\.mp4\n/);
  await workbench.palette('video-scan: Open Preview to the Side');
  await page.waitForSelector('.tab[aria-label*="Preview"]', { timeout: 30_000 }).catch(() => undefined);
  // Back to the walkthrough: its tab is still open.
  await page.locator('.tab', { hasText: 'Welcome' }).first().click();
  for (const step of ['Get the model', 'Check the GPU', 'Caption the sample video', 'Open the preview']) {
    await page.locator('.getting-started-step', { hasText: step }).locator('.codicon-getting-started-step-checked').first().waitFor({ timeout: 30_000 }).catch(async (error: unknown) => {
      await workbench.shot('failed-walkthrough-complete');
      throw new Error(`step "${step}" not marked done: ${String(error)}`);
    });
  }
  await shotBothThemes('walkthrough-done');
});

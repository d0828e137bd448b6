/**
 * The library in a real VS Code workbench (code-server + chromium): **Find Event in All
 * Videos** over the sample workspace lists events of several .vscan files, with stills of
 * their videos, and choosing one opens its .vscan at the event with the preview seeked to
 * its start. Screenshots in test-results/e2e/ (library-*.png).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { makeSampleVideos } from '../sample-workspace/make-videos';
import { root, Workbench } from './workbench';

let workbench: Workbench;
let page: Page;

/** The preview's inner webview frame: the one holding the video element. */
async function previewFrame(): Promise<Frame> {
  for (let i = 0; i < 150; i++) {
    for (const frame of page.frames()) {
      if (await frame.$('video').catch(() => null)) return frame;
    }
    await page.waitForTimeout(200);
  }
  throw new Error('the preview webview did not appear');
}

before(async () => {
  await makeSampleVideos();
  const workspace = mkdtempSync(join(tmpdir(), 'vscan-e2e-library-'));
  cpSync(join(root, 'test', 'sample-workspace'), workspace, { recursive: true });
  // The theme follows the browser's colour scheme and forced colours, as a user's system sets them.
  workbench = await Workbench.start({
    workspace,
    settings: {
      'window.autoDetectColorScheme': true,
      'window.autoDetectHighContrast': true,
      'workbench.preferredLightColorTheme': 'Default Light Modern',
      'workbench.preferredDarkColorTheme': 'Default Dark Modern',
      'workbench.preferredHighContrastColorTheme': 'Default High Contrast',
    },
  });
  page = workbench.page;
});

after(async () => {
  await workbench?.close();
});

test('Find Event in All Videos lists events of several .vscan files and opens the chosen one at its time, the preview seeked', { timeout: 180_000 }, async () => {
  await workbench.palette('video-scan: Find Event in All Videos');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  await input.fill('clip');
  const rows = page.locator('.quick-input-list .monaco-list-row');
  // Events of kitchen.vscan and long.vscan, the Scene of problems.vscan: three files.
  await page.waitForFunction(() => {
    const text = Array.from(document.querySelectorAll('.quick-input-list .monaco-list-row')).map((r) => r.textContent ?? '').join('\n');
    return ['kitchen.vscan', 'long.vscan', 'problems.vscan'].every((f) => text.includes(f));
  }, undefined, { timeout: 30_000 }).catch(() => undefined); // the assertions below say what is missing
  const listed = (await rows.allTextContents()).join('\n');
  for (const expected of ['the last seconds of the clip', 'kitchen.mp4', '0:07.0–0:09.5', 'the clip nears its end', 'long.mp4', 'kitchen.vscan:10', 'long.vscan:12', 'problems.vscan']) {
    assert.ok(listed.includes(expected), `"${expected}" listed in:\n${listed}`);
  }
  // In the server's ranking (the QuickPick does not re-sort them): the two events, then the Scene paragraph.
  const order = (await rows.allTextContents()).map((row) => ['the last seconds of the clip', 'the clip nears its end', 'The same clip'].findIndex((text) => row.includes(text)));
  assert.deepEqual(order, [0, 1, 2]);
  // Stills of the videos (the workspace is trusted): images in the rows' icons.
  await page.waitForFunction(() => document.querySelectorAll('.quick-input-list .monaco-list-row .quick-input-list-icon[style*="background-image"], .quick-input-list .monaco-list-row img').length >= 2, undefined, { timeout: 30_000 })
    .catch(() => undefined);
  await workbench.shot('library-find-all');
  const stills = await page.locator('.quick-input-list .monaco-list-row .quick-input-list-icon[style*="background-image"], .quick-input-list .monaco-list-row img').count();
  assert.ok(stills >= 2, `thumbnails shown (${stills})`);

  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'the last seconds of the clip' }).first().click();
  await page.waitForSelector('.tab.active[aria-label*="kitchen.vscan"], .tab[aria-label*="kitchen.vscan"]', { timeout: 20_000 });
  // The cursor is on the event's line (10: <7.0 - 9.5> the last seconds of the clip).
  await page.waitForFunction(() => Array.from(document.querySelectorAll('.line-numbers.active-line-number')).some((n) => n.textContent?.trim() === '10'), undefined, { timeout: 20_000 });
  const frame = await previewFrame();
  try {
    await frame.waitForFunction(() => Math.abs(((document.querySelector('video') as HTMLVideoElement | null)?.currentTime ?? -1) - 7) < 0.05, undefined, { timeout: 30_000 });
  } finally {
    await page.waitForTimeout(500); // the seeked frame painted, for the screenshot
    await workbench.shot('library-opened-at-event');
  }
});

test('Go to Symbol in Workspace (Ctrl+T) finds events by description', { timeout: 120_000 }, async () => {
  await page.locator('.editor-group-container .monaco-editor textarea').first().focus();
  await page.keyboard.press('Control+T');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  await input.fill('#pattern scrolls');
  await page.waitForSelector('.quick-input-list .monaco-list-row[aria-label*="the pattern scrolls"]', { timeout: 30_000 });
  await workbench.shot('library-workspace-symbol');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.tab.active[aria-label*="long.vscan"]', { timeout: 20_000 });
});

test('the list in dark and high-contrast themes (screenshots)', { timeout: 120_000 }, async () => {
  const themes = [
    { name: 'dark', media: { colorScheme: 'dark' as const, forcedColors: 'none' as const }, workbenchClass: 'vs-dark' },
    { name: 'high-contrast', media: { colorScheme: 'dark' as const, forcedColors: 'active' as const }, workbenchClass: 'hc-black' },
  ];
  try {
    for (const theme of themes) {
      await page.emulateMedia(theme.media);
      await page.waitForFunction((cls) => document.querySelector('.monaco-workbench')?.classList.contains(cls) ?? false, theme.workbenchClass, { timeout: 20_000 });
      await workbench.palette('video-scan: Find Event in All Videos');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible', timeout: 20_000 });
      await input.fill('counter');
      await page.waitForSelector('.quick-input-list .monaco-list-row[aria-label*="the counter shows 2 to 4"]', { timeout: 30_000 });
      assert.match((await page.locator('.quick-input-list .monaco-list-row').allTextContents()).at(-1) ?? '', /^Scene /, 'the Scene paragraph ranks below the events');
      await page.waitForFunction(() => document.querySelectorAll('.quick-input-list .monaco-list-row .quick-input-list-icon[style*="background-image"]').length >= 3, undefined, { timeout: 30_000 }).catch(() => undefined);
      await page.waitForTimeout(300); // the repaint after the theme change
      await workbench.shot(`library-find-all-${theme.name}`);
      await page.keyboard.press('Escape');
    }
  } finally {
    await page.emulateMedia({ colorScheme: 'light', forcedColors: 'none' });
  }
});

/**
 * VS Code's default keybindings as a running workbench lists them (*Preferences: Open
 * Default Keyboard Shortcuts (JSON)*, copied through the clipboard), without ours.
 *
 * Run directly, it records code-server's list for the fast tier's check
 * (test/client/keybindings.test.ts):
 *   npm run package -- --target linux-x64 && bash test/e2e/setup.sh
 *   node --import tsx test/e2e/defaultKeybindings.ts
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Keybinding, parseDefaultKeybindings } from '../helpers/keybindings';
import { root, Workbench } from './workbench';

/** Where the recorded list lives, named by the code-server version it came from. */
export const RECORDED_DEFAULTS = join(root, 'test', 'client', 'code-server-4.139.1-default-keybindings.json');

export async function readDefaultKeybindings(workbench: Workbench): Promise<Keybinding[]> {
  const page = workbench.page;
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await workbench.palette('Preferences: Open Default Keyboard Shortcuts (JSON)');
  await page.waitForSelector('.tab.active[aria-label*="keybindings" i]', { timeout: 20_000 });
  const lines = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  // The editor fills in once the keybinding service has listed everything.
  await page.waitForFunction(() => (document.querySelector('.editor-group-container.active .monaco-editor .view-lines')?.textContent ?? '').includes('"command"'), undefined, { timeout: 20_000 });
  await lines.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Control+C');
  const text = await page.evaluate(() => navigator.clipboard.readText());
  await page.keyboard.press('Control+W');
  // The list holds every installed extension's bindings too: ours are what is checked.
  return parseDefaultKeybindings(text).filter((d) => !d.command.startsWith('videoScan.') && !d.command.startsWith('-videoScan.'));
}

async function main(): Promise<void> {
  const workbench = await Workbench.start({ workspace: mkdtempSync(join(tmpdir(), 'vscan-keys-')) });
  try {
    const defaults = await readDefaultKeybindings(workbench);
    const kept = defaults.map(({ key, command, when }) => (when ? { key, command, when } : { key, command }));
    writeFileSync(RECORDED_DEFAULTS, JSON.stringify(kept, null, 1) + '\n');
    console.log(`${kept.length} default keybindings → ${RECORDED_DEFAULTS}`);
  } finally {
    await workbench.close();
  }
}

if (require.main === module) void main().catch((error: unknown) => { console.error(error); process.exit(1); });

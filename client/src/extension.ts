/**
 * The VS Code side: starts the language server (dist/server.js over node IPC) for .vscan
 * files, the synced preview, the commands (caption, find, preview, set times from the
 * playhead), getting the model (consent, download, token, Select Model…), the model's
 * status bar item and its menu, and the walkthrough's sample video (docs/architecture.md).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { type InitializationOptions, PartialTextNotification, StatusNotification, type StatusParams, WorkspaceTrustNotification } from '../../server/src/lsp/protocol';
import { checkGpu } from './checkGpu';
import { captionOne, registerCommands } from './commands';
import { registerLibraryCommands } from './library';
import type { LibraryInitializationOptions } from '../../server/src/lsp/libraryProtocol';
import { registerInstallCuda, runtimeRoot } from './installCuda';
import { migrateModelPath } from './migrateSettings';
import { ModelAccess } from './modelAccess';
import { registerTimelineCommands } from './timelineCommands';
import { PreviewManager } from './preview';
import { messageOf } from './progress';
import { makeSampleVideo } from './sampleVideo';
import { selectModel } from './selectModel';
import { ModelStatusBar, showModelMenu } from './statusBar';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  // The engine (started by the server) looks for installed CUDA providers here too.
  const env = { ...process.env, VSCAN_RUNTIME_DIR: runtimeRoot(context) };
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { env } },
    debug: { module, transport: TransportKind.ipc, options: { env, execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const output = vscode.window.createOutputChannel('video-scan', { log: true });
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'vscan' }],
    outputChannel: output,
    // Untrusted (Restricted Mode), the server probes nothing until trust is granted.
    // The library's index and thumbnails live in this workspace's storage (docs/library.md);
    // the preview's filmstrips are kept with its proxies, in a folder its webview may read.
    initializationOptions: {
      trusted: vscode.workspace.isTrusted,
      libraryStorage: (context.storageUri ?? context.globalStorageUri).fsPath,
      previewCache: vscode.Uri.joinPath(context.globalStorageUri, 'preview-proxies').fsPath,
    } satisfies InitializationOptions & LibraryInitializationOptions,
    synchronize: { configurationSection: 'videoScan', fileEvents: vscode.workspace.createFileSystemWatcher('**/*.vscan') },
  };
  // Before the server starts, so that its first configuration already has the new key; and
  // again whenever the old key appears (a settings file synced or edited later; in remote
  // windows the user settings can also arrive after an early activation).
  await migrateModelPath(output);
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('videoScan.model.path')) void migrateModelPath(output);
  }));
  client = new LanguageClient('videoScan', 'video-scan', serverOptions, clientOptions);
  const lsp = client;
  const previews = new PreviewManager(context, lsp);
  const models = new ModelAccess(context, lsp, output);
  const status = new ModelStatusBar();
  const register = (id: string, handler: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  context.subscriptions.push(output, previews, status);
  register('videoScan.seek', async (uri: string | vscode.Uri, seconds: number) => {
    const target = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return;
    if (!previews.seek(target, seconds)) {
      // Clicking a time with no preview open opens it, then seeks.
      await previews.open(await vscode.workspace.openTextDocument(target), true);
      previews.seek(target, seconds); // applied once the preview has its model
    }
  });
  registerCommands(context, lsp, previews, models);
  registerTimelineCommands(context, lsp, previews);
  registerLibraryCommands(context, lsp);
  registerInstallCuda(context);
  register('videoScan.selectModel', () => selectModel(models));
  register('videoScan.downloadModel', () => models.download());
  register('videoScan.setHuggingFaceToken', () => models.setToken());
  register('videoScan.checkGpu', () => checkGpu(lsp, models, output));
  register('videoScan.modelMenu', () => showModelMenu(output));
  register('videoScan.showLog', () => output.show(true));
  register('videoScan.captionSampleVideo', async () => {
    if (!vscode.workspace.isTrusted) return void vscode.window.showWarningMessage('Running the model needs a trusted workspace (Manage Workspace Trust).');
    let video: vscode.Uri;
    try {
      // In the first workspace folder, so its .vscan appears beside it in the Explorer; with none open, in the extension's storage.
      const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath ?? context.globalStorageUri.fsPath;
      const ffmpegPath = vscode.workspace.getConfiguration('videoScan.ffmpeg').get<string>('path') || undefined;
      video = vscode.Uri.file(await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Making the sample video…' }, () => makeSampleVideo(folder, ffmpegPath)));
    } catch (error) {
      return void vscode.window.showErrorMessage(messageOf(error));
    }
    if (!(await models.ensureReady())) return;
    const file = await captionOne(lsp, video, `Captioning ${path.basename(video.fsPath)}`);
    if (file) await vscode.window.showTextDocument(file);
  });
  lsp.onNotification(StatusNotification.method, (s: StatusParams) => {
    status.update(s);
    if (s.message) output.info(s.message);
  });
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => {
    void lsp.sendNotification(WorkspaceTrustNotification.type, { trusted: true });
    previews.trustGranted();
  }));
  lsp.onNotification(PartialTextNotification.method, (p: { video: string; text: string }) => output.trace(`${p.video}: ${p.text.slice(-120)}`));
  await lsp.start();
  // Whether the configured model is here: completes the walkthrough's first step when it already is.
  models.info().catch((error: unknown) => output.warn(`model info: ${messageOf(error)}`));
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

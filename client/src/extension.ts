/**
 * The VS Code side: starts the language server (dist/server.js over node IPC) for .vscan
 * files, the synced preview, the commands (caption, find, preview, set times from the
 * playhead) and the engine's status bar item (docs/architecture.md).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { type InitializationOptions, PartialTextNotification, StatusNotification, type StatusParams, WorkspaceTrustNotification } from '../../server/src/lsp/protocol';
import { registerCommands } from './commands';
import { registerInstallCuda, runtimeRoot } from './installCuda';
import { PreviewManager } from './preview';

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
    synchronize: { configurationSection: 'videoScan' },
    outputChannel: output,
    // Untrusted (Restricted Mode), the server probes nothing until trust is granted.
    initializationOptions: { trusted: vscode.workspace.isTrusted } satisfies InitializationOptions,
  };
  client = new LanguageClient('videoScan', 'video-scan', serverOptions, clientOptions);
  const previews = new PreviewManager(context);
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.name = 'video-scan';
  status.command = 'workbench.action.openSettings';
  context.subscriptions.push(
    output,
    previews,
    status,
    vscode.commands.registerCommand('videoScan.seek', async (uri: string | vscode.Uri, seconds: number) => {
      const target = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri;
      if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return;
      if (!previews.seek(target, seconds)) {
        // Clicking a time with no preview open opens it, then seeks.
        await previews.open(await vscode.workspace.openTextDocument(target), true);
        setTimeout(() => previews.seek(target, seconds), 500);
      }
    }),
  );
  registerCommands(context, client, previews);
  registerInstallCuda(context);
  client.onNotification(StatusNotification.method, (s: StatusParams) => {
    status.text = `$(device-camera-video) ${s.state}${s.executionProvider ? ` · ${s.executionProvider}${s.precision ? ` ${s.precision}` : ''}` : ''}${s.queue ? ` · ${s.queue} queued` : ''}`;
    status.tooltip = [`video-scan engine: ${s.state}`, s.model && `model ${s.model}`, s.adapter && `GPU adapter ${s.adapter}`, s.message].filter(Boolean).join('\n');
    status.show();
    if (s.message) output.info(s.message);
  });
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => {
    void client?.sendNotification(WorkspaceTrustNotification.type, { trusted: true });
    previews.trustGranted();
  }));
  client.onNotification(PartialTextNotification.method, (p: { video: string; text: string }) => output.trace(`${p.video}: ${p.text.slice(-120)}`));
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

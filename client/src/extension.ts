/**
 * The VS Code side: starts the language server (dist/server.js over node IPC) for .vscan
 * files, the synced preview, the commands (caption, find, preview, set times from the
 * playhead) and the engine's status bar item (docs/architecture.md).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { PartialTextNotification, StatusNotification, type StatusParams } from '../../server/src/lsp/protocol';
import { registerCommands } from './commands';
import { registerTimelineCommands } from './timelineCommands';
import { PreviewManager } from './preview';

let client: LanguageClient | undefined;


export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const output = vscode.window.createOutputChannel('video-scan', { log: true });
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'vscan' }],
    synchronize: { configurationSection: 'videoScan' },
    outputChannel: output,
  };
  client = new LanguageClient('videoScan', 'video-scan', serverOptions, clientOptions);
  const previews = new PreviewManager(context, client);
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
        previews.seek(target, seconds); // applied once the preview has its model
      }
    }),
  );
  registerCommands(context, client, previews);
  registerTimelineCommands(context, client, previews);
  client.onNotification(StatusNotification.method, (s: StatusParams) => {
    status.text = `$(device-camera-video) ${s.state}${s.executionProvider ? ` · ${s.executionProvider}${s.precision ? ` ${s.precision}` : ''}` : ''}${s.queue ? ` · ${s.queue} queued` : ''}`;
    status.tooltip = [`video-scan engine: ${s.state}`, s.model && `model ${s.model}`, s.message].filter(Boolean).join('\n');
    status.show();
    if (s.message) output.info(s.message);
  });
  client.onNotification(PartialTextNotification.method, (p: { video: string; text: string }) => output.trace(`${p.video}: ${p.text.slice(-120)}`));
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

/**
 * The VS Code side: starts the language server (dist/server.js over node IPC) for .vscan
 * files and owns the commands that need the editor. The synced preview and the model
 * commands build on this (docs/architecture.md).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

/** Seek requests from document links and code lenses, for the preview to honour. */
const seekEmitter = new vscode.EventEmitter<{ uri: vscode.Uri; seconds: number }>();
export const onDidRequestSeek = seekEmitter.event;

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
  context.subscriptions.push(
    output,
    seekEmitter,
    vscode.commands.registerCommand('videoScan.seek', (uri: string | vscode.Uri, seconds: number) => {
      const target = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri;
      if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return;
      seekEmitter.fire({ uri: target, seconds });
      output.info(`seek ${target.toString()} → ${seconds} s`);
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

/**
 * *video-scan: Install GPU Support (CUDA)* (`videoScan.installCuda`): downloads ONNX
 * Runtime's CUDA provider libraries into the extension's global storage, with a cancellable
 * progress notification. The installer is the CLI's (server/src/model/acquire/), run here in
 * the extension host; the engine process finds the folder through `VSCAN_RUNTIME_DIR`,
 * which extension.ts sets for the language server it starts.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { installCudaProviders, type InstallResult } from '../../server/src/model/acquire/runtimeLibraries';

export const INSTALL_CUDA_COMMAND = 'videoScan.installCuda';

/** Where the editor's installations live (passed to the engine as VSCAN_RUNTIME_DIR). */
export function runtimeRoot(context: vscode.ExtensionContext): string {
  return join(context.globalStorageUri.fsPath, 'runtime');
}

/** Registers the command; it resolves to what was installed, or undefined when cancelled or failed. */
export function registerInstallCuda(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand(INSTALL_CUDA_COMMAND, async (options?: { force?: boolean }): Promise<InstallResult | undefined> => {
    const title = 'video-scan: Installing GPU support (CUDA)';
    try {
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        const controller = new AbortController();
        const cancel = token.onCancellationRequested(() => controller.abort());
        let reported = 0;
        try {
          return await installCudaProviders({
            root: runtimeRoot(context),
            force: options?.force === true,
            signal: controller.signal,
            onProgress: (p) => {
              const percent = Math.floor(p.fraction * 100);
              progress.report({ message: p.message, increment: Math.max(0, percent - reported) });
              reported = Math.max(reported, percent);
            },
          });
        } finally {
          cancel.dispose();
        }
      });
      const reload = 'Reload Window';
      const message = result.alreadyInstalled
        ? `GPU support (CUDA) is already installed (${result.folder}).`
        : `GPU support (CUDA) installed in ${result.folder}. The model engine uses it from its next start (with execution provider auto or cuda).`;
      void vscode.window.showInformationMessage(message, reload).then((choice) => {
        if (choice === reload) void vscode.commands.executeCommand('workbench.action.reloadWindow');
      });
      return result;
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if ((error as { cancelled?: boolean }).cancelled) void vscode.window.showInformationMessage('video-scan: GPU support installation cancelled; nothing was installed.');
      else void vscode.window.showErrorMessage(`video-scan: ${text}`);
      return undefined;
    }
  }));
}

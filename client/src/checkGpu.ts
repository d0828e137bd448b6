/**
 * Check GPU: loads the engine for the configured model (`videoScan/loadEngine`, after any
 * download) and says where it runs — the provider, precision and adapter it got, and when
 * it fell back to the CPU, why (the reason the engine gave), with the way to fix it.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { LoadEngineRequest, type StatusParams } from '../../server/src/lsp/protocol';
import { configuredModel, type ModelAccess } from './modelAccess';
import { describeEngine } from './modelText';
import { messageOf } from './progress';
import { INSTALL_CUDA_COMMAND } from './statusBar';

export async function checkGpu(client: LanguageClient, models: ModelAccess, output: vscode.LogOutputChannel): Promise<StatusParams | undefined> {
  if (!(await models.ensureReady())) return undefined;
  const wanted = vscode.workspace.getConfiguration('videoScan.model').get<string>('executionProvider', 'auto');
  let status: StatusParams;
  try {
    status = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Loading ${configuredModel()} to check the GPU…` },
      () => client.sendRequest(LoadEngineRequest.type, {}));
  } catch (error) {
    output.error(`Check GPU: ${messageOf(error)}`);
    void vscode.window.showErrorMessage(`Check GPU: the model did not load: ${messageOf(error)}`, 'Show Log').then((c) => { if (c) output.show(true); });
    return undefined;
  }
  const where = describeEngine(status);
  output.info(`Check GPU: executionProvider setting ${wanted}; runs on ${where}${status.message ? `; ${status.message}` : ''}`);
  if (status.executionProvider !== 'cpu') {
    void vscode.window.showInformationMessage(`video-scan runs on ${where}.`);
    return status;
  }
  const commands = new Set(await vscode.commands.getCommands(true));
  const reason = status.message ?? (wanted === 'cpu' ? 'videoScan.model.executionProvider is set to cpu.' : 'no GPU provider loaded.');
  const actions = [...(commands.has(INSTALL_CUDA_COMMAND) && wanted !== 'cpu' ? ['Install GPU Support (CUDA)'] : []), ...(wanted === 'cpu' ? ['Open Setting'] : []), 'Show Log'];
  void vscode.window.showWarningMessage(`video-scan runs on ${where}: ${reason}`, ...actions).then((choice) => {
    if (choice === 'Install GPU Support (CUDA)') void vscode.commands.executeCommand(INSTALL_CUDA_COMMAND);
    if (choice === 'Open Setting') void vscode.commands.executeCommand('workbench.action.openSettings', 'videoScan.model.executionProvider');
    if (choice === 'Show Log') output.show(true);
  });
  return status;
}

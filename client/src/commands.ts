/**
 * The editor commands: Caption Video / Caption All Videos, Find Event, Open Preview (the
 * playhead and transport commands are in timelineCommands.ts). Model commands run only in
 * trusted workspaces.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { formatTime, isVideoFileName } from '../../server/src/language';
import { CaptionRequest, DocumentVideoRequest, FindRequest } from '../../server/src/lsp/protocol';
import { expandPaths } from '../../server/src/cli/files';
import { candidateNames } from '../../server/src/tasks/writeResult';
import type { ModelAccess } from './modelAccess';
import type { PreviewManager } from './preview';
import { messageOf, wasCancelled, withServerProgress } from './progress';

const FIND_HISTORY = 'videoScan.findHistory';

function requireTrust(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage('Running the model needs a trusted workspace (Manage Workspace Trust).');
  return false;
}

export async function captionOne(client: LanguageClient, video: vscode.Uri, label: string): Promise<vscode.Uri | undefined> {
  try {
    const result = await withServerProgress(client, label, (token, workDoneToken) => client.sendRequest(CaptionRequest.type, { video: video.toString(), workDoneToken }, token));
    if (!result.format_ok) void vscode.window.showWarningMessage(`${basename(video.fsPath)}: the model did not answer in the trained format; its answer is kept in the file as written.`);
    if (result.notice) void vscode.window.showWarningMessage(result.notice);
    // The walkthrough's caption step completes on the first caption written.
    void vscode.commands.executeCommand('setContext', 'videoScan.captioned', true);
    if (result.file) return vscode.Uri.parse(result.file);
    // Written nowhere (disk full): an untitled editor holds it until the user saves it somewhere.
    const untitled = await vscode.workspace.openTextDocument({ language: 'vscan', content: result.text ?? '' });
    return untitled.uri;
  } catch (error) {
    if (wasCancelled(error)) return undefined;
    const choice = await vscode.window.showErrorMessage(`Caption failed for ${basename(video.fsPath)}: ${messageOf(error)}`, 'Select Model…', 'Show Log');
    if (choice === 'Select Model…') void vscode.commands.executeCommand('videoScan.selectModel');
    if (choice === 'Show Log') void vscode.commands.executeCommand('videoScan.showLog');
    return undefined;
  }
}

/** The video a command acts on: the argument, the active .vscan's (as the server resolves it), or one the user picks. */
async function pickVideo(client: LanguageClient, argument?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (argument) return argument;
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId === 'vscan') {
    const linked = await client.sendRequest(DocumentVideoRequest.type, { uri: editor.document.uri.toString() });
    if (linked?.exists) return vscode.Uri.parse(linked.uri);
  }
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Videos: ['mp4', 'mov', 'm4v', 'mkv', 'webm', 'avi'] }, openLabel: 'Use this video' });
  return picked?.[0];
}

export function registerCommands(context: vscode.ExtensionContext, client: LanguageClient, previews: PreviewManager, models: ModelAccess): void {
  const register = (id: string, handler: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, handler));

  register('videoScan.captionVideo', async (uri?: vscode.Uri) => {
    if (!requireTrust()) return;
    const video = await pickVideo(client, uri);
    if (!video || !(await models.ensureReady())) return;
    const file = await captionOne(client, video, `Captioning ${basename(video.fsPath)}`);
    if (!file) return;
    // Like the Markdown preview's "open beside": the new annotation with its video.
    const document = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(document);
    await previews.open(document, true);
  });

  register('videoScan.captionFolder', async (uri?: vscode.Uri) => {
    if (!requireTrust()) return;
    const folder = uri ?? (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false }))?.[0];
    if (!folder) return;
    const videos = await expandPaths([folder.fsPath], isVideoFileName);
    // Resume: videos that already have their .vscan are skipped (as `vscan caption` does).
    const todo = videos.filter((v) => !existsSync(candidateNames(v, 1)[0]));
    if (todo.length && !(await models.ensureReady())) return;
    let done = 0;
    for (const [i, video] of todo.entries()) {
      if (await captionOne(client, vscode.Uri.file(video), `Captioning ${i + 1}/${todo.length}: ${basename(video)}`)) done++;
    }
    void vscode.window.showInformationMessage(`Captioned ${done} of ${todo.length} videos (${videos.length - todo.length} already had a .vscan).`);
  });

  register('videoScan.findEvent', async () => {
    if (!requireTrust()) return;
    const video = await pickVideo(client);
    if (!video) return;
    const history = context.globalState.get<string[]>(FIND_HISTORY, []);
    const query = await new Promise<string | undefined>((resolve) => {
      const pick = vscode.window.createQuickPick();
      pick.placeholder = 'Describe the event to find, e.g. "the dog jumps into the water"';
      pick.items = history.map((label) => ({ label }));
      pick.onDidChangeValue((value) => { pick.items = [...(value ? [{ label: value }] : []), ...history.filter((h) => h !== value).map((label) => ({ label }))]; });
      pick.onDidAccept(() => { resolve(pick.selectedItems[0]?.label ?? pick.value); pick.hide(); });
      pick.onDidHide(() => { resolve(undefined); pick.dispose(); });
      pick.show();
    });
    if (!query || !(await models.ensureReady())) return;
    await context.globalState.update(FIND_HISTORY, [query, ...history.filter((h) => h !== query)].slice(0, 20));
    try {
      const result = await withServerProgress(client, `Finding "${query}"`, (token, workDoneToken) => client.sendRequest(FindRequest.type, { video: video.toString(), query, workDoneToken }, token));
      if (!result.span) return void vscode.window.showWarningMessage(`No span in the model's answer: ${result.raw.slice(0, 200)}`);
      const [start, end] = result.span;
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.languageId === 'vscan') previews.showFound(editor.document.uri, start, end, query);
      const choice = await vscode.window.showInformationMessage(`"${query}": ${formatTime(start)}–${formatTime(end)} s${result.format_ok ? '' : ' (answer not in the trained format)'}`,
        ...(editor?.document.languageId === 'vscan' ? ['Insert as Event'] : []));
      if (choice === 'Insert as Event' && editor) {
        // In time order, inside the Scene window that holds it, in the file's time style.
        await vscode.commands.executeCommand('videoScan.applyTimelineEdit', editor.document.uri, { kind: 'insert', start, end, description: query });
      }
    } catch (error) {
      if (!wasCancelled(error)) void vscode.window.showErrorMessage(`Find failed: ${messageOf(error)}`);
    }
  });

  for (const [id, toSide] of [['videoScan.openPreview', false], ['videoScan.openPreviewToSide', true]] as const) {
    register(id, async (uri?: vscode.Uri) => {
      const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
      if (document?.languageId === 'vscan') await previews.open(document, toSide);
    });
  }
}

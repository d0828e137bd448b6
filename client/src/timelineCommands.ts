/**
 * Commands that act on the preview from the editor: transport (play/pause, play or loop the
 * event under the cursor, frame step, ±1 s), playhead edits (Set Event Start/End, Insert
 * Event at Playhead), the preview lock and Link Video. The edits are computed by the
 * language server (videoScan/timelineEdit: the document's style and precision, clamped to
 * the video, in time order) and applied here as one workspace edit — one undo step.
 */
import { readdir } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { isVideoFileName, rankBySimilarity, type TimelineEditParams } from '../../server/src/language';
import { DocumentVideoRequest, TimelineEditRequest } from '../../server/src/lsp/protocol';
import type { PreviewManager } from './preview';

const BROWSE = 'Browse…';

function activeVscan(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  return editor?.document.languageId === 'vscan' ? editor : undefined;
}

/** Asks the server for the edits and applies them as one undoable edit; moves the cursor where it says. */
async function applyTimelineEdit(client: LanguageClient, uri: vscode.Uri, edit: TimelineEditParams): Promise<boolean> {
  const document = await vscode.workspace.openTextDocument(uri);
  const result = await client.sendRequest(TimelineEditRequest.type, { uri: uri.toString(), version: document.version, edit });
  if (result.error) {
    void vscode.window.showWarningMessage(`${uri.path.split('/').pop()}: ${result.error}`);
    return false;
  }
  if (result.edits.length === 0) return true;
  const workspaceEdit = new vscode.WorkspaceEdit();
  for (const e of result.edits) {
    workspaceEdit.replace(uri, new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character), e.newText);
  }
  const applied = await vscode.workspace.applyEdit(workspaceEdit);
  const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
  if (applied && editor && result.cursor) {
    const position = new vscode.Position(result.cursor.line, result.cursor.character);
    editor.selection = new vscode.Selection(position, position);
    editor.revealRange(new vscode.Range(position, position));
  }
  return applied;
}

/** The video files in a folder and one level below, for Link Video (bounded). */
async function videosNear(folder: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string, depth: number) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.slice(0, 2000)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isFile() && isVideoFileName(entry.name)) out.push(relative(folder, path));
      else if (entry.isDirectory() && depth > 0 && !entry.name.startsWith('.') && entry.name !== 'node_modules') await visit(path, depth - 1);
      if (out.length >= 500) return;
    }
  };
  await visit(folder, 1);
  return out;
}

export function registerTimelineCommands(context: vscode.ExtensionContext, client: LanguageClient, previews: PreviewManager): void {
  const register = (id: string, handler: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, handler));

  register('videoScan.applyTimelineEdit', (uri: vscode.Uri, edit: TimelineEditParams) => applyTimelineEdit(client, uri, edit));

  /** The preview's playhead for the active .vscan, or a hint how to get one. */
  const playhead = (editor: vscode.TextEditor) => {
    const at = previews.playhead(editor.document.uri);
    if (!at) void vscode.window.showInformationMessage('Open the preview (video-scan: Open Preview to the Side) to use its playhead.');
    return at;
  };
  for (const [id, kind] of [['videoScan.setEventStart', 'setStart'], ['videoScan.setEventEnd', 'setEnd']] as const) {
    register(id, async () => {
      const editor = activeVscan();
      const at = editor && playhead(editor);
      if (!editor || !at) return;
      const { line, character } = editor.selection.active;
      await applyTimelineEdit(client, editor.document.uri, { kind, line, character, seconds: at.seconds });
    });
  }
  register('videoScan.insertEventAtPlayhead', async () => {
    const editor = activeVscan();
    const at = editor && playhead(editor);
    if (editor && at) await applyTimelineEdit(client, editor.document.uri, { kind: 'insert', start: at.seconds });
  });

  register('videoScan.togglePlayback', () => previews.transport({ action: 'toggle' }));
  register('videoScan.stepFrameForward', () => previews.transport({ action: 'step', frames: 1 }));
  register('videoScan.stepFrameBackward', () => previews.transport({ action: 'step', frames: -1 }));
  register('videoScan.forwardSecond', () => previews.transport({ action: 'jump', seconds: 1 }));
  register('videoScan.backSecond', () => previews.transport({ action: 'jump', seconds: -1 }));
  for (const [id, mode] of [['videoScan.playEvent', 'once'], ['videoScan.loopEvent', 'loop']] as const) {
    register(id, () => {
      const editor = activeVscan();
      const event = editor && previews.eventOnLine(editor.selection.active.line);
      if (editor && event) previews.seek(editor.document.uri, event.start, mode, event.end);
    });
  }
  register('videoScan.togglePreviewLock', () => previews.toggleLock());

  register('videoScan.linkVideo', async (argument?: string | vscode.Uri) => {
    const uri = typeof argument === 'string' ? vscode.Uri.parse(argument) : argument ?? activeVscan()?.document.uri;
    if (!uri || uri.scheme !== 'file') return;
    const folder = dirname(uri.fsPath);
    const linked = await client.sendRequest(DocumentVideoRequest.type, { uri: uri.toString() });
    // Ranked by how much each name looks like the missing one (or the document's own name).
    const wanted = linked?.name ?? uri.path.split('/').pop()!.replace(/\.vscan$/i, '');
    const candidates = rankBySimilarity(wanted, await videosNear(folder));
    const pick = await vscode.window.showQuickPick([...candidates.map((label) => ({ label })), { label: BROWSE, description: 'choose a video anywhere' }],
      { placeHolder: linked && !linked.exists ? `${linked.name} does not exist: link another video` : 'Link a video to this annotation' });
    if (!pick) return;
    let name = pick.label;
    if (name === BROWSE) {
      const chosen = await vscode.window.showOpenDialog({ defaultUri: vscode.Uri.file(folder), canSelectMany: false, filters: { Videos: ['mp4', 'mov', 'm4v', 'mkv', 'webm', 'avi'] }, openLabel: 'Link this video' });
      if (!chosen?.[0]) return;
      const rel = relative(folder, chosen[0].fsPath);
      name = rel.startsWith('..') ? chosen[0].fsPath : rel;
    }
    await applyTimelineEdit(client, uri, { kind: 'linkVideo', name });
  });
}

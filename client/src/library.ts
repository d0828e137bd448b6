/**
 * The library commands: **Find Event in All Videos** (a QuickPick over every `.vscan` in the
 * workspace, ranked by the server's index, with a still of each video where the workspace is
 * trusted), **Export Annotations…** and **Import Annotations…**. The server does the reading
 * and writing (lsp/libraryProtocol.ts); this file only asks and shows.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { formatTime } from '../../server/src/language/time';
import {
  ExportAnnotationsRequest, ImportAnnotationsRequest, type LibrarySearchResult, SearchLibraryRequest, ThumbnailRequest,
} from '../../server/src/lsp/libraryProtocol';
import { messageOf, wasCancelled, withServerProgress } from './progress';

/** Typing pauses this long before the index is asked (it answers in milliseconds; the list should not flicker). */
const SEARCH_DELAY_MS = 120;
/** Stills fetched per answer: the visible part of the list. */
const THUMBNAILS = 12;
/** Hits the model checks when asked to. */
const GROUND_TOP = 5;

interface ResultItem extends vscode.QuickPickItem {
  result: LibrarySearchResult;
}

function timeLabel(result: LibrarySearchResult): string {
  return `${formatTime(result.start, 'clock')}–${formatTime(result.end, 'clock')}`;
}

/**
 * A result as a row: the time as the label, the text beside it, the video and the file
 * below. The label holds no words of the text on purpose: the QuickPick sorts rows whose
 * label matches the typed words above the rest, which would undo the server's ranking
 * (stems, typos, BM25) — rows with no label match keep the order they are given in.
 */
function itemFor(result: LibrarySearchResult, thumbnail?: vscode.Uri): ResultItem {
  const video = result.video ? basename(vscode.Uri.parse(result.video).fsPath) : '(no video)';
  const file = vscode.workspace.asRelativePath(vscode.Uri.parse(result.vscan)); // the folder's name only in multi-root workspaces
  return {
    label: `${result.kind === 'scene' ? 'Scene ' : ''}${timeLabel(result)}`,
    description: result.description,
    detail: `${video} · ${file}:${result.line + 1}${result.grounded ? ' · $(sparkle) confirmed by the model' : ''}`,
    iconPath: thumbnail ?? new vscode.ThemeIcon(result.kind === 'scene' ? 'symbol-namespace' : 'symbol-event'),
    alwaysShow: true, // the server matched them (stems, typos): the QuickPick's own filter would hide good matches
    result,
  };
}

/** Opens the `.vscan` at the result's line and the preview seeked to its start (the `videoScan.seek` command). */
async function openResult(result: LibrarySearchResult): Promise<void> {
  const uri = vscode.Uri.parse(result.vscan);
  const document = await vscode.workspace.openTextDocument(uri);
  const position = new vscode.Position(result.line, 0);
  await vscode.window.showTextDocument(document, { selection: new vscode.Range(position, position), preview: false });
  await vscode.commands.executeCommand('videoScan.seek', uri.toString(), result.start);
}

export async function findEventInAllVideos(client: LanguageClient): Promise<void> {
  const placeholder = 'Describe the event (searches the events and scenes of every .vscan in the workspace)';
  const pick = vscode.window.createQuickPick<ResultItem>();
  pick.title = 'Find Event in All Videos';
  pick.placeholder = placeholder;
  pick.matchOnDescription = false;
  pick.matchOnDetail = false;
  const groundButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('sparkle'), tooltip: `Check the best ${GROUND_TOP} with the model` };
  if (vscode.workspace.isTrusted) pick.buttons = [groundButton];
  let generation = 0;
  let timer: NodeJS.Timeout | undefined;
  const thumbnails = new Map<string, vscode.Uri | null>();

  const show = (results: LibrarySearchResult[]) => {
    pick.items = results.map((r) => itemFor(r, r.video ? thumbnails.get(`${r.video}@${r.start}`) ?? undefined : undefined));
  };

  /** Stills are made by the server with ffmpeg, only in trusted workspaces: text only otherwise. */
  const fetchThumbnails = async (results: LibrarySearchResult[], asked: number) => {
    if (!vscode.workspace.isTrusted) return;
    await Promise.all(results.slice(0, THUMBNAILS).filter((r) => r.video && !thumbnails.has(`${r.video}@${r.start}`)).map(async (r) => {
      const answer = await client.sendRequest(ThumbnailRequest.type, { video: r.video!, time: r.start }).catch(() => null);
      thumbnails.set(`${r.video}@${r.start}`, answer ? vscode.Uri.parse(answer.file) : null);
    }));
    if (asked === generation) show(results);
  };

  const search = async (query: string, ground = 0) => {
    const asked = ++generation;
    if (!query.trim()) {
      pick.items = [];
      return;
    }
    pick.busy = true;
    try {
      const answer = ground
        ? await withServerProgress(client, 'Checking results with the model', (token, workDoneToken) => client.sendRequest(SearchLibraryRequest.type, { query, limit: 50, ground, workDoneToken }, token))
        : await client.sendRequest(SearchLibraryRequest.type, { query, limit: 50 });
      if (asked !== generation) return; // a newer query is on its way
      show(answer.results);
      pick.placeholder = answer.results.length ? placeholder : `No event matches in ${answer.indexed.files} .vscan files`;
      void fetchThumbnails(answer.results, asked);
    } catch (error) {
      if (!wasCancelled(error)) void vscode.window.showErrorMessage(`Find Event in All Videos: ${messageOf(error)}`);
    } finally {
      if (asked === generation) pick.busy = false;
    }
  };

  pick.onDidChangeValue((value) => {
    clearTimeout(timer);
    timer = setTimeout(() => void search(value), SEARCH_DELAY_MS);
  });
  pick.onDidTriggerButton((button) => {
    if (button === groundButton) void search(pick.value, GROUND_TOP);
  });
  pick.onDidAccept(() => {
    const [chosen] = pick.selectedItems;
    if (!chosen) return;
    pick.hide();
    void openResult(chosen.result).catch((error: unknown) => vscode.window.showErrorMessage(messageOf(error)));
  });
  pick.onDidHide(() => {
    clearTimeout(timer);
    pick.dispose();
  });
  pick.show();
}

const FORMATS: (vscode.QuickPickItem & { format: 'vtt' | 'srt' | 'json' | 'jsonl' })[] = [
  { label: 'WebVTT', description: '.vtt', detail: 'Subtitles for the web and most players', format: 'vtt' },
  { label: 'SubRip', description: '.srt', detail: 'Subtitles for video editors and players', format: 'srt' },
  { label: 'Dense captions (JSON)', description: '.json', detail: 'ActivityNet Captions layout: {video: {duration, timestamps, sentences}}', format: 'json' },
  { label: 'JSON Lines', description: '.jsonl', detail: 'One {video, start, end, description} record per event', format: 'jsonl' },
];

/** The `.vscan` or folder a command acts on: the argument (Explorer), else the active `.vscan`. */
function sourceOf(argument?: vscode.Uri): vscode.Uri | undefined {
  if (argument) return argument;
  const document = vscode.window.activeTextEditor?.document;
  return document?.languageId === 'vscan' && document.uri.scheme === 'file' ? document.uri : undefined;
}

export async function exportAnnotations(client: LanguageClient, argument?: vscode.Uri): Promise<void> {
  const source = sourceOf(argument);
  if (!source) return void vscode.window.showInformationMessage('Open a .vscan file, or choose a .vscan or a folder in the Explorer, to export its annotations.');
  const choice = await vscode.window.showQuickPick(FORMATS, { title: `Export ${basename(source.fsPath)}`, placeHolder: 'Format' });
  if (!choice) return;
  const isFolder = (await vscode.workspace.fs.stat(source)).type === vscode.FileType.Directory;
  const subtitlesOfFolder = isFolder && (choice.format === 'vtt' || choice.format === 'srt');
  let out: vscode.Uri | undefined;
  if (!subtitlesOfFolder) {
    const name = `${basename(source.fsPath).replace(/\.vscan$/, '')}.${choice.format}`;
    out = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(source, '..', name), filters: { [choice.label]: [choice.format] }, saveLabel: 'Export' });
    if (!out) return;
  }
  try {
    // The save dialog has asked about replacing an existing file already.
    const answer = await client.sendRequest(ExportAnnotationsRequest.type, { source: source.toString(), format: choice.format, ...(out ? { out: out.toString(), replace: true } : {}) });
    for (const note of answer.notes) void vscode.window.showWarningMessage(note);
    const opened = await vscode.window.showInformationMessage(`Exported ${answer.written.length === 1 ? basename(vscode.Uri.parse(answer.written[0]).fsPath) : `${answer.written.length} files`}.`, ...(answer.written.length === 1 ? ['Open'] : []));
    if (opened === 'Open') await vscode.window.showTextDocument(vscode.Uri.parse(answer.written[0]));
  } catch (error) {
    void vscode.window.showErrorMessage(`Export failed: ${messageOf(error)}`);
  }
}

export async function importAnnotations(client: LanguageClient, argument?: vscode.Uri): Promise<void> {
  const file = argument ?? (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Subtitles and captions': ['srt', 'vtt', 'json', 'jsonl'] }, openLabel: 'Import' }))?.[0];
  if (!file) return;
  try {
    const { written } = await client.sendRequest(ImportAnnotationsRequest.type, { file: file.toString() });
    if (written[0]) await vscode.window.showTextDocument(vscode.Uri.parse(written[0]));
    if (written.length > 1) void vscode.window.showInformationMessage(`Imported ${written.length} .vscan files from ${basename(file.fsPath)}.`);
  } catch (error) {
    void vscode.window.showErrorMessage(`Import failed: ${messageOf(error)}`);
  }
}

/** Registers the library commands. */
export function registerLibraryCommands(context: vscode.ExtensionContext, client: LanguageClient): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('videoScan.findEventInAllVideos', () => findEventInAllVideos(client)),
    vscode.commands.registerCommand('videoScan.exportAnnotations', (uri?: vscode.Uri) => exportAnnotations(client, uri)),
    vscode.commands.registerCommand('videoScan.importAnnotations', (uri?: vscode.Uri) => importAnnotations(client, uri)),
  );
}

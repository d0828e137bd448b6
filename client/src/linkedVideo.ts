/** The video a .vscan document links, by the same rule as the language server's. */
import { readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { isVideoFileName, parseVscan } from '../../server/src/language';
import { linkedVideoPath } from '../../server/src/workspace/videoContext';

function siblings(folder: string): string[] {
  try {
    return readdirSync(folder).filter(isVideoFileName).sort();
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function linkedVideo(document: vscode.TextDocument): vscode.Uri | undefined {
  if (document.uri.scheme !== 'file') return undefined;
  const path = document.uri.fsPath;
  const linked = linkedVideoPath(parseVscan(document.getText()), path, siblings(dirname(path)));
  // An empty `Video:` header names the folder: no video, as the server reports it.
  return linked && isFile(linked.path) ? vscode.Uri.file(linked.path) : undefined;
}

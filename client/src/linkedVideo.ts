/** The video a .vscan document links (the same rule as the language server's). */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { findHeader, isVideoFileName, parseVscan } from '../../server/src/language';

export function linkedVideo(document: vscode.TextDocument): vscode.Uri | undefined {
  if (document.uri.scheme !== 'file') return undefined;
  const folder = dirname(document.uri.fsPath);
  const header = findHeader(parseVscan(document.getText()), 'video');
  if (header?.value) {
    const path = isAbsolute(header.value) ? header.value : resolve(folder, header.value);
    return existsSync(path) ? vscode.Uri.file(path) : undefined;
  }
  const base = basename(document.uri.fsPath, extname(document.uri.fsPath));
  try {
    const match = readdirSync(folder).find((name) => isVideoFileName(name) && basename(name, extname(name)) === base);
    return match ? vscode.Uri.file(join(folder, match)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a preview webview may load (`localResourceRoots`), decided without VS Code so it can
 * be tested: our scripts, the proxy folder, and the linked video's folder only where the
 * user chose to look. A `Video:` header is written by whoever wrote the .vscan (a cloned
 * repository), so it alone never widens the roots beyond the workspace.
 */
import { dirname, isAbsolute, relative } from 'node:path';

export interface PreviewRootsInput {
  /** The extension's `dist` folder (the webview script). */
  scripts: string;
  /** Where preview proxies are made (the extension's storage). */
  proxyFolder: string;
  /** The workspace folders' paths (none in an empty window). */
  workspaceFolders: readonly string[];
  /** The .vscan document's path. */
  documentPath: string;
  /** The video to show (or its proxy), when one is linked. */
  videoPath?: string;
}

export interface PreviewRoots {
  roots: string[];
  /** The video the webview may load; undefined when none is linked or it is refused. */
  video?: string;
  /** Why a linked video is not loaded, in one sentence. */
  refused?: string;
}

/** Whether `path` is `folder` or inside it. */
export function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The video's folder is a root when the video is inside a workspace folder, or is a proxy
 * we made, or — for a .vscan the user opened from outside the workspace — lies under that
 * document's own folder. Anything else named by `Video:` is refused.
 */
export function previewRoots(input: PreviewRootsInput): PreviewRoots {
  const roots = [input.scripts];
  const video = input.videoPath;
  if (!video) return { roots };
  const inWorkspace = input.workspaceFolders.some((folder) => isInside(video, folder));
  const isProxy = isInside(video, input.proxyFolder);
  const documentOutside = !input.workspaceFolders.some((folder) => isInside(input.documentPath, folder));
  const besideOutsideDocument = documentOutside && isInside(video, dirname(input.documentPath));
  if (inWorkspace || isProxy || besideOutsideDocument) return { roots: [...roots, dirname(video)], video };
  return {
    roots,
    refused: documentOutside
      ? `${video} is outside this file's folder; open the video's folder to preview it.`
      : `${video} is outside the workspace; add its folder to the workspace to preview it.`,
  };
}

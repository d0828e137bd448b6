/**
 * Document links: every time seeks the preview (a `videoScan.seek` command link with the
 * document URI and the seconds), and the `Video:` header opens the video.
 */
import type { DocumentLink } from 'vscode-languageserver-types';
import type { DocumentContext } from './context';
import type { TimeToken, VscanDocument } from './document';
import { MAX_DOCUMENT_LINKS } from './limits';
import { findHeader } from './parser';

export const SEEK_COMMAND = 'videoScan.seek';

/** A command URI for `videoScan.seek(documentUri, seconds)`. */
export function seekCommandUri(documentUri: string, seconds: number): string {
  return `command:${SEEK_COMMAND}?${encodeURIComponent(JSON.stringify([documentUri, seconds]))}`;
}

function seekLink(uri: string, token: TimeToken): DocumentLink | undefined {
  if (token.value === undefined || token.value < 0) return undefined;
  return { range: token.range, target: seekCommandUri(uri, token.value), tooltip: `Seek the preview to ${token.text}` };
}

/** The links of a document, at most `max` (MAX_DOCUMENT_LINKS): the answer stays bounded however long the file. */
export function documentLinks(doc: VscanDocument, uri: string, context: DocumentContext, max = MAX_DOCUMENT_LINKS): DocumentLink[] {
  const links: DocumentLink[] = [];
  const header = findHeader(doc, 'video');
  if (header && context.video?.exists) {
    links.push({ range: header.valueRange, target: context.video.uri, tooltip: 'Open the video' });
  }
  const spans = [...doc.blocks.flatMap((b) => (b.window ? [b.window] : [])), ...doc.events];
  for (const span of spans) {
    for (const token of [span.start, span.end]) {
      if (links.length >= max) return links;
      const link = seekLink(uri, token);
      if (link) links.push(link);
    }
  }
  return links;
}

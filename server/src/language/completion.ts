/**
 * Completion: in an Events section, a new event starting where the previous one ended;
 * before the first Scene, the `Video:` header with the videos beside the file and the
 * section keywords.
 */
import { type CompletionItem, CompletionItemKind, InsertTextFormat, type Position } from 'vscode-languageserver-types';
import type { DocumentContext } from './context';
import type { VscanDocument } from './document';
import { blockAt, eventBefore } from './navigation';
import type { VscanSettings } from './settings';
import { formatTime } from './time';

/** Length of the suggested new event. */
const NEW_EVENT_SECONDS = 1;

export function completionsAt(doc: VscanDocument, position: Position, context: DocumentContext, settings: VscanSettings): CompletionItem[] {
  const lineText = doc.lines[position.line] ?? '';
  const before = lineText.slice(0, position.character);
  const block = blockAt(doc, position.line);
  const replace = { start: { line: position.line, character: before.length - before.trimStart().length }, end: position };
  if (block?.eventsLine !== undefined && position.line > block.eventsLine && /^\s*<?[\d:.\s-]*$/.test(before)) {
    const previous = eventBefore(doc, position.line);
    const start = previous?.end.value ?? block.window?.start.value ?? 0;
    const digits = Math.max(1, previous?.end.fractionDigits ?? 1);
    const startText = formatTime(Math.max(0, start), settings.timeStyle, digits);
    const endText = formatTime(Math.max(0, start) + NEW_EVENT_SECONDS, settings.timeStyle, digits);
    return [{
      label: `<${startText} - …> new event`,
      detail: previous ? `Starts where the event on line ${previous.line + 1} ends` : 'Starts at the beginning',
      kind: CompletionItemKind.Snippet,
      insertTextFormat: InsertTextFormat.Snippet,
      textEdit: { range: replace, newText: `<${startText} - \${1:${endText}}> \${0:description}` },
      filterText: before.trimStart() || '<',
      sortText: '0',
    }];
  }
  if (block || !/^\s*\w*$/.test(before)) {
    return [];
  }
  const items: CompletionItem[] = [];
  for (const name of context.siblingVideos ?? []) {
    items.push({ label: `Video: ${name}`, kind: CompletionItemKind.File, textEdit: { range: replace, newText: `Video: ${name}` } });
  }
  items.push(
    { label: 'Scene:', kind: CompletionItemKind.Keyword, insertTextFormat: InsertTextFormat.Snippet, textEdit: { range: replace, newText: 'Scene: ${0}' } },
    { label: 'Events:', kind: CompletionItemKind.Keyword, textEdit: { range: replace, newText: 'Events:' } },
  );
  return items;
}

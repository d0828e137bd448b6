/** Document symbols (Scene blocks with their events) and folding ranges. */
import { type DocumentSymbol, type FoldingRange, FoldingRangeKind, SymbolKind } from 'vscode-languageserver-types';
import { LineKind, type SceneBlock, type VscanDocument } from './document';

const DETAIL_LENGTH = 60;

function shorten(text: string, length = DETAIL_LENGTH): string {
  return text.length > length ? text.slice(0, length - 1) + '…' : text;
}

function blockName(block: SceneBlock): string {
  return block.window ? `Scene ${block.window.start.text}–${block.window.end.text}` : 'Scene';
}

function lineRange(doc: VscanDocument, first: number, last: number) {
  return { start: { line: first, character: 0 }, end: { line: last, character: doc.lines[last].length } };
}

export function documentSymbols(doc: VscanDocument): DocumentSymbol[] {
  const symbols: DocumentSymbol[] = doc.headers.map((header) => ({
    name: header.key,
    detail: shorten(header.value),
    kind: SymbolKind.Property,
    range: lineRange(doc, header.line, header.line),
    selectionRange: header.keyRange,
  }));
  for (const block of doc.blocks) {
    symbols.push({
      name: blockName(block),
      detail: shorten(block.text),
      kind: SymbolKind.Namespace,
      range: lineRange(doc, block.line, block.lastLine),
      selectionRange: lineRange(doc, block.line, block.line),
      children: block.events.map((event) => ({
        // A name must not be empty; an event without text still shows its span.
        name: `${event.start.text}–${event.end.text}${event.description ? ' ' + shorten(event.description) : ''}`,
        kind: SymbolKind.Event,
        range: event.fullRange,
        selectionRange: event.range,
      })),
    });
  }
  return symbols;
}

export function foldingRanges(doc: VscanDocument): FoldingRange[] {
  const ranges: FoldingRange[] = [];
  for (const block of doc.blocks) {
    if (block.lastLine > block.line) ranges.push({ startLine: block.line, endLine: block.lastLine });
    if (block.eventsLine !== undefined && block.eventsLine > block.line && block.lastLine > block.eventsLine) {
      ranges.push({ startLine: block.eventsLine, endLine: block.lastLine });
    }
  }
  // Runs of two or more comment lines.
  for (let line = 0; line < doc.lines.length; line++) {
    if (doc.lineKinds[line] !== LineKind.Comment) continue;
    const start = line;
    while (line + 1 < doc.lines.length && doc.lineKinds[line + 1] === LineKind.Comment) line++;
    if (line > start) ranges.push({ startLine: start, endLine: line, kind: FoldingRangeKind.Comment });
  }
  return ranges;
}

/**
 * Parser for the .vscan format v1 (docs/vscan-format.md). One pass over the lines, no
 * backtracking regular expressions, so a 1 MB line or a binary file costs linear time.
 * It never throws: anything it cannot read becomes a ParseProblem with a precise range.
 */
import type { Range } from 'vscode-languageserver-types';
import {
  EventEntry,
  type Header,
  LineKind,
  makeRange as range,
  type ParseProblem,
  type SceneBlock,
  Span,
  type SpanFields,
  type VscanDocument,
} from './document';
import { type ParsedTime, parseTime } from './time';

const HEADER = /^([A-Za-z][A-Za-z0-9_-]{0,63})[ \t]*:/;
const SCENE = /^scene\b/i;
const EVENTS = /^events[ \t]*:/i;
/** `Events:` inside a Scene line, as in raw model output pasted on one line. */
const INLINE_EVENTS = /(^|[ \t])events[ \t]*:[ \t]*(?=<|$)/i;
/** A well-formed-looking `<time - time>` marker: where a second event on a line begins. */
const NEXT_MARKER = /<[ \t]*-?[\d:.]+[ \t]*[-–—][ \t]*-?[\d:.]+[ \t]*>/g;
/** `Events: value` that is not followed by an event: an ordinary header before any Scene. */
const HEADER_ONLY = /^[ \t]*events[ \t]*:[ \t]*[^<\s]/i;
const THINK = /^<\/?think>$/i;

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 0xfeff;
}

/** `-`, `–` or `—`: accepted as the separator of a span (the formatter writes `-`). */
function isDash(code: number): boolean {
  return code === 45 || code === 0x2013 || code === 0x2014;
}

/** A separator dash follows a space, a digit or a dot (otherwise it is a sign). */
function followsTime(code: number): boolean {
  return isSpace(code) || (code >= 48 && code <= 57) || code === 46;
}

function skipSpace(text: string, from: number, to = text.length): number {
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  return from;
}

function trimEnd(text: string, from: number, to: number): number {
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  return to;
}

export function splitLines(text: string): string[] {
  // A plain split is several times faster than the regular expression; most files are LF.
  return text.includes('\r') ? text.split(/\r\n|\r|\n/) : text.split('\n');
}

class Parser {
  readonly lines: string[];
  readonly lineKinds: LineKind[];
  readonly headers: Header[] = [];
  readonly blocks: SceneBlock[] = [];
  readonly events: EventEntry[] = [];
  readonly problems: ParseProblem[] = [];

  constructor(lines: string[]) {
    this.lines = lines;
    this.lineKinds = new Array<LineKind>(lines.length).fill(LineKind.Other);
  }

  run(): void {
    let block: SceneBlock | undefined;
    // Where we are inside the current block.
    let state: 'preamble' | 'scene' | 'afterScene' | 'events' = 'preamble';
    for (let line = 0; line < this.lines.length; line++) {
      const text = this.lines[line];
      const first = skipSpace(text, 0);
      if (first === text.length) {
        this.lineKinds[line] = LineKind.Blank;
        if (state === 'scene') state = 'afterScene';
        continue;
      }
      if (text.charCodeAt(first) === 35 /* # */) {
        this.lineKinds[line] = LineKind.Comment;
        continue;
      }
      const code = text.charCodeAt(first) | 0x20; // lower-cased ASCII letter
      if (code === 0x3c /* < */ && state === 'events') {
        // The hot path: an event line inside an Events section.
        block!.lastLine = line;
        this.parseEvents(line, text, first, block!);
        continue;
      }
      const rest = code === 0x73 /* s */ || code === 0x65 /* e */ ? text.slice(first, first + 16) : '';
      if (code === 0x73 && SCENE.test(rest) && this.isSceneLine(text, first)) {
        block = this.parseScene(line, text, first);
        state = block.eventsLine === line ? 'events' : 'scene';
        continue;
      }
      if (code === 0x65 && EVENTS.test(rest) && (block || !HEADER_ONLY.test(text))) {
        // An Events section with no Scene before it forms a block without a paragraph.
        block ??= this.startBlock(line, undefined);
        this.lineKinds[line] = LineKind.Events;
        if (block.eventsLine === undefined) block.eventsLine = line;
        block.lastLine = line;
        const after = skipSpace(text, text.indexOf(':', first) + 1);
        if (after < text.length) this.parseEvents(line, text, after, block);
        state = 'events';
        continue;
      }
      switch (state) {
        case 'preamble':
          this.parsePreambleLine(line, text, first);
          break;
        case 'scene':
          this.lineKinds[line] = LineKind.SceneText;
          block!.text += ' ' + text.slice(first, trimEnd(text, first, text.length));
          block!.lastLine = line;
          break;
        case 'afterScene':
          this.lineKinds[line] = LineKind.Other;
          block!.lastLine = line;
          this.problem('unexpected-text', range(line, first, trimEnd(text, first, text.length)),
            'Text after the Scene paragraph ended (a blank line ends it); expected `Events:` or `Scene:`');
          break;
        case 'events':
          block!.lastLine = line;
          this.parseEvents(line, text, first, block!);
          break;
      }
    }
  }

  private isSceneLine(text: string, first: number): boolean {
    // `Scene:` or `Scene <a - b>:`; not a header such as `Scenery: …`.
    const after = skipSpace(text, first + 5);
    const code = text.charCodeAt(after);
    return code === 58 /* : */ || code === 60 /* < */;
  }

  private startBlock(line: number, window: Span | undefined): SceneBlock {
    const block: SceneBlock = { line, window, text: '', headText: '', eventsLine: undefined, events: [], lastLine: line };
    this.blocks.push(block);
    return block;
  }

  private problem(code: ParseProblem['code'], where: Range, message: string): void {
    this.problems.push({ code, range: where, message });
  }

  private parsePreambleLine(line: number, text: string, first: number): void {
    const end = trimEnd(text, first, text.length);
    if (THINK.test(text.slice(first, end))) {
      this.lineKinds[line] = LineKind.Think;
      return;
    }
    const header = HEADER.exec(text.slice(first, first + 80));
    if (header) {
      this.lineKinds[line] = LineKind.Header;
      const keyEnd = first + header[1].length;
      const valueStart = skipSpace(text, text.indexOf(':', keyEnd) + 1);
      this.headers.push({
        key: header[1],
        value: text.slice(valueStart, end),
        line,
        keyRange: range(line, first, keyEnd),
        valueRange: range(line, valueStart, Math.max(valueStart, end)),
      });
      return;
    }
    this.lineKinds[line] = LineKind.Other;
    this.problem('unexpected-text', range(line, first, end),
      'Expected a `Key: value` header, a comment or `Scene:` before the first Scene block');
  }

  private parseScene(line: number, text: string, first: number): SceneBlock {
    this.lineKinds[line] = LineKind.Scene;
    let cursor = skipSpace(text, first + 5);
    let window: Span | undefined;
    if (text.charCodeAt(cursor) === 60 /* < */) {
      const close = text.indexOf('>', cursor);
      if (close < 0) {
        this.problem('malformed-time', range(line, cursor, trimEnd(text, cursor, text.length)),
          'Scene window is missing its closing `>`');
      } else {
        if (this.parseSpan(line, text, cursor, close)) window = new Span(text, this.scratch);
        cursor = close + 1;
      }
    }
    const colon = text.indexOf(':', cursor);
    const textStart = skipSpace(text, colon < 0 ? text.length : colon + 1);
    let textEnd = trimEnd(text, textStart, text.length);
    const block = this.startBlock(line, window);
    // Raw model output may carry `Events: <0.0 - 1.0> …` on the Scene line itself.
    const inline = INLINE_EVENTS.exec(text.slice(textStart, textEnd));
    if (inline) {
      const eventsAt = textStart + inline.index + inline[1].length;
      block.eventsLine = line;
      const after = skipSpace(text, text.indexOf(':', eventsAt) + 1);
      textEnd = trimEnd(text, textStart, eventsAt);
      if (after < text.length) this.parseEvents(line, text, after, block, false);
    }
    block.text = block.headText = text.slice(textStart, textEnd);
    return block;
  }

  /** Parses one or more `<a - b> description` events starting at `from` on a line. */
  private parseEvents(line: number, text: string, from: number, block: SceneBlock, setKind = true): void {
    if (setKind && this.lineKinds[line] !== LineKind.Events) this.lineKinds[line] = LineKind.Event;
    const lineEnd = trimEnd(text, from, text.length);
    if (text.charCodeAt(from) !== 60 /* < */) {
      this.problem('malformed-event', range(line, from, lineEnd),
        'Expected an event `<start - end> description`');
      return;
    }
    const firstEvent = this.events.length;
    let open = from;
    while (open < lineEnd) {
      const close = text.indexOf('>', open);
      if (close < 0 || close >= lineEnd) {
        this.problem('malformed-event', range(line, open, lineEnd), 'Unterminated `<`: expected `<start - end>`');
        break;
      }
      if (!this.parseSpan(line, text, open, close)) break;
      // The description runs to the next well-formed marker on the same line, if any.
      NEXT_MARKER.lastIndex = close + 1;
      const next = NEXT_MARKER.exec(text);
      const descEnd = next && next.index < lineEnd ? next.index : lineEnd;
      const descStart = skipSpace(text, close + 1, descEnd);
      const descTrimEnd = trimEnd(text, descStart, descEnd);
      const entry = new EventEntry(text, this.scratch, this.events.length, descStart, descTrimEnd, block);
      this.events.push(entry);
      block.events.push(entry);
      open = descEnd;
    }
    if (this.events.length - firstEvent === 1 && setKind && this.lineKinds[line] === LineKind.Event) {
      this.events[firstEvent].ownsLine = true;
    }
  }

  /** Reused by parseSpan for every span, so that parsing allocates only what it keeps. */
  private readonly scratch: SpanFields = {
    line: 0, open: 0, close: 0,
    startValue: undefined, startDigits: 0, startFrom: 0, startTo: 0,
    endValue: undefined, endDigits: 0, endFrom: 0, endTo: 0,
  };

  /** Reads `<a - b>` between `open` (the `<`) and `close` (the `>`) into `scratch`; false if it has no separator. */
  private parseSpan(line: number, text: string, open: number, close: number): boolean {
    const innerStart = skipSpace(text, open + 1, close);
    const innerEnd = trimEnd(text, innerStart, close);
    // The separator is the first dash that follows a space, digit or dot (so a leading
    // `-` stays a sign: `<-1.0 - 2.0>`).
    let sep = -1;
    for (let i = innerStart + 1; i < innerEnd; i++) {
      if (isDash(text.charCodeAt(i)) && followsTime(text.charCodeAt(i - 1))) {
        sep = i;
        break;
      }
    }
    if (sep < 0) {
      this.problem('malformed-event', range(line, open, close + 1), 'Expected `<start - end>` with a `-` between two times');
      return false;
    }
    const f = this.scratch;
    f.line = line;
    f.open = open;
    f.close = close + 1;
    f.startFrom = innerStart;
    f.startTo = trimEnd(text, innerStart, sep);
    f.endFrom = skipSpace(text, sep + 1, innerEnd);
    f.endTo = Math.max(innerEnd, f.endFrom);
    const start = this.time(line, text, f.startFrom, f.startTo, 'start');
    f.startValue = start.value;
    f.startDigits = start.fractionDigits;
    const end = this.time(line, text, f.endFrom, f.endTo, 'end');
    f.endValue = end.value;
    f.endDigits = end.fractionDigits;
    return true;
  }

  private time(line: number, text: string, from: number, to: number, which: string): ParsedTime {
    const raw = text.slice(from, to);
    const parsed = parseTime(raw);
    if (parsed.value === undefined) {
      const where = range(line, from, Math.max(to, from));
      const shown = raw.length > 24 ? raw.slice(0, 24) + '…' : raw;
      this.problem('malformed-time', raw ? where : range(line, Math.max(from - 1, 0), from + 1),
        raw ? `Malformed ${which} time \`${shown}\`: expected seconds (12.5) or clock form (1:02.5, 1:02:03.5)`
          : `Missing ${which} time`);
    }
    return parsed;
  }
}

/** Parses a .vscan text. Never throws. */
export function parseVscan(text: string): VscanDocument {
  const firstNewline = text.indexOf('\n');
  const lines = splitLines(text);
  const parser = new Parser(lines);
  parser.run();
  return {
    lines,
    lineKinds: parser.lineKinds,
    eol: firstNewline > 0 && text.charCodeAt(firstNewline - 1) === 13 ? '\r\n' : '\n',
    headers: parser.headers,
    blocks: parser.blocks,
    events: parser.events,
    problems: parser.problems,
  };
}

/** The header with this key (case-insensitive), the first when repeated. */
export function findHeader(doc: VscanDocument, key: string): Header | undefined {
  const wanted = key.toLowerCase();
  return doc.headers.find((h) => h.key.toLowerCase() === wanted);
}

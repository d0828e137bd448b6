/** The parsed form of a .vscan file. Positions are LSP-style: 0-based line, UTF-16 column. */
import type { Range } from 'vscode-languageserver-types';
import type { ParsedTime } from './time';

/**
 * Positions are kept as numbers and turned into LSP ranges only on demand: a 100,000-event
 * file would otherwise allocate over a million Range/Position objects per keystroke, and
 * the garbage collector, not the parser, would dominate the time.
 */
export function makeRange(line: number, start: number, end: number): Range {
  return { start: { line, character: start }, end: { line, character: end } };
}

/** A timestamp token: where it is, what was written, and what it means. */
export class TimeToken implements ParsedTime {
  constructor(
    /** The whole line the token is on (shared, not copied). */
    private readonly source: string,
    /** Seconds; undefined when the text does not parse. */
    readonly value: number | undefined,
    readonly fractionDigits: number,
    readonly line: number,
    readonly from: number,
    readonly to: number,
  ) {}

  /** The time as written. Sliced on demand: retained substrings cost the GC dearly at 100,000 events. */
  get text(): string {
    return this.source.slice(this.from, this.to);
  }

  get range(): Range {
    return makeRange(this.line, this.from, this.to);
  }
}

/** The numbers behind a Span, filled by the parser (a scratch object it reuses). */
export interface SpanFields {
  line: number;
  open: number;
  close: number;
  startValue: number | undefined;
  startDigits: number;
  startFrom: number;
  startTo: number;
  endValue: number | undefined;
  endDigits: number;
  endFrom: number;
  endTo: number;
}

/**
 * `<start - end>`, either an event's span or a Scene block's window. The times are kept
 * as plain numbers (hot paths read `startValue`/`endValue`); `start` and `end` build
 * TimeToken views on demand.
 */
export class Span {
  readonly line: number;
  /** Column of `<`. */
  readonly open: number;
  /** Column just after `>`. */
  readonly close: number;
  /** Seconds; undefined when the time does not parse. */
  readonly startValue: number | undefined;
  readonly endValue: number | undefined;
  private readonly startDigits: number;
  private readonly startFrom: number;
  private readonly startTo: number;
  private readonly endDigits: number;
  private readonly endFrom: number;
  private readonly endTo: number;

  constructor(protected readonly source: string, f: SpanFields) {
    this.line = f.line;
    this.open = f.open;
    this.close = f.close;
    this.startValue = f.startValue;
    this.endValue = f.endValue;
    this.startDigits = f.startDigits;
    this.startFrom = f.startFrom;
    this.startTo = f.startTo;
    this.endDigits = f.endDigits;
    this.endFrom = f.endFrom;
    this.endTo = f.endTo;
  }

  get start(): TimeToken {
    return new TimeToken(this.source, this.startValue, this.startDigits, this.line, this.startFrom, this.startTo);
  }

  get end(): TimeToken {
    return new TimeToken(this.source, this.endValue, this.endDigits, this.line, this.endFrom, this.endTo);
  }

  /** From `<` through `>`. */
  get range(): Range {
    return makeRange(this.line, this.open, this.close);
  }
}

export class EventEntry extends Span {
  /** True when this is the only event on its line (it may then be moved or deleted as a line). */
  ownsLine = false;

  constructor(
    source: string,
    fields: SpanFields,
    /** Position of this event in `VscanDocument.events` (document order). */
    readonly index: number,
    private readonly descriptionFrom: number,
    private readonly descriptionTo: number,
    readonly block: SceneBlock,
  ) {
    super(source, fields);
  }

  /** Description text, trimmed. */
  get description(): string {
    return this.source.slice(this.descriptionFrom, this.descriptionTo);
  }

  /** Column where the description (or the span, when there is none) ends. */
  get contentEnd(): number {
    return Math.max(this.close, this.descriptionTo);
  }

  /** From `<` to the end of the description. */
  get fullRange(): Range {
    return makeRange(this.line, this.open, this.contentEnd);
  }
}

export interface Header {
  key: string;
  value: string;
  line: number;
  keyRange: Range;
  valueRange: Range;
}

export interface SceneBlock {
  /** Line of `Scene…:`. */
  line: number;
  /** `Scene <120.0 - 240.0>:` window, in source seconds. */
  window: Span | undefined;
  /** The Scene paragraph, lines joined with a space. */
  text: string;
  /** The part of the paragraph on the Scene line itself. */
  headText: string;
  /** Line of `Events:`, if any. */
  eventsLine: number | undefined;
  events: EventEntry[];
  /** Last non-blank line that belongs to the block. */
  lastLine: number;
}

export type ParseProblemCode = 'malformed-event' | 'malformed-time' | 'unexpected-text';

export interface ParseProblem {
  code: ParseProblemCode;
  range: Range;
  message: string;
}

/** What a line is; kept per line for grammar-independent features (completion, sorting). */
export enum LineKind {
  Blank,
  Comment,
  Header,
  Scene,
  SceneText,
  Events,
  Event,
  Think,
  Other,
}

export interface VscanDocument {
  lines: string[];
  lineKinds: LineKind[];
  /** The end-of-line sequence the file mostly uses. */
  eol: '\n' | '\r\n';
  headers: Header[];
  blocks: SceneBlock[];
  events: EventEntry[];
  problems: ParseProblem[];
}

/** Types for the W3C's webvtt-parser (it ships none): the parts the format tests read. */
declare module 'webvtt-parser' {
  export interface CueNode { type?: string; value?: string; children?: CueNode[] }
  export interface Cue { id: string; startTime: number; endTime: number; text: string; tree: CueNode }
  export class WebVTTParser {
    constructor(entities?: Record<string, string>);
    parse(input: string, mode?: 'subtitles' | 'chapters' | 'metadata'): { cues: Cue[]; errors: { message: string; line: number; col: number }[] };
  }
}

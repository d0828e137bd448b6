/**
 * The library's LSP extensions (search across the workspace's `.vscan` files, thumbnails):
 * declared once here, imported by the server and the VS Code client. Each says who sends
 * it to whom. Besides these the server answers the standard `workspace/symbol` from the
 * same index, and follows `workspace/didChangeWatchedFiles` for `**\/*.vscan`.
 */
import { ProtocolRequestType } from 'vscode-languageserver-protocol';

/** What the client adds to `initializationOptions` for the library. */
export interface LibraryInitializationOptions {
  /**
   * A folder the server may write to (VS Code: the extension's workspace storage). The
   * index is kept in `<folder>/search/`, thumbnails in `<folder>/thumbnails/`. Without it
   * the index lives in memory only and no thumbnail is made.
   */
  libraryStorage?: string;
}

export interface SearchLibraryParams {
  query: string;
  /** Most results (default 50, at most 200). */
  limit?: number;
  /** Ask the model about the best `ground` hits and re-rank (trusted workspaces only; default 0). */
  ground?: number;
  workDoneToken?: string | number;
}

/** One search result: an event or a Scene paragraph of a `.vscan` in the workspace. */
export interface LibrarySearchResult {
  /** The `.vscan` file (URI). */
  vscan: string;
  /** Its video (URI), when it links one. */
  video: string | null;
  kind: 'event' | 'scene';
  /** 0-based line of the event or of `Scene…:`. */
  line: number;
  start: number;
  end: number;
  description: string;
  score: number;
  /** Whether the model confirmed this hit (stage 2). */
  grounded: boolean;
  /** The model's span, when it was asked and answered one. */
  span?: [number, number];
}

export interface SearchLibraryResponse {
  results: LibrarySearchResult[];
  /** Files and entries in the index. */
  indexed: { files: number; entries: number };
  /** Set when the library is larger than the caps allow: why it is incomplete. */
  truncated?: string;
}

/** Client → server: rank the events and Scene paragraphs of every `.vscan` in the workspace for a query. */
export namespace SearchLibraryRequest {
  export const method = 'videoScan/searchLibrary';
  export const type = new ProtocolRequestType<SearchLibraryParams, SearchLibraryResponse, never, void, void>(method);
}

export interface ThumbnailParams {
  /** The video (URI). */
  video: string;
  /** Seconds. */
  time: number;
}

/**
 * Client → server: a still of the video at a time, as a PNG in the library storage (its
 * URI), or null (untrusted workspace — no ffmpeg runs —, no storage, or no frame there).
 */
export namespace ThumbnailRequest {
  export const method = 'videoScan/thumbnail';
  export const type = new ProtocolRequestType<ThumbnailParams, { file: string } | null, never, void, void>(method);
}

export interface ExportAnnotationsParams {
  /** A `.vscan` file or a folder (URI). */
  source: string;
  format: 'vtt' | 'srt' | 'json' | 'jsonl';
  /** Where to write (URI); absent: the text is answered (subtitles of a folder: beside each .vscan). */
  out?: string;
  /** Replace an existing output file (the client asked the user); a .vscan is never replaced. */
  replace?: boolean;
}

/** Client → server: export annotations as subtitles or dense captions; an error's message is one line naming the file. */
export namespace ExportAnnotationsRequest {
  export const method = 'videoScan/exportAnnotations';
  export const type = new ProtocolRequestType<ExportAnnotationsParams, { written: string[]; text?: string; notes: string[] }, never, void, void>(method);
}

/** Client → server: import an SRT, WebVTT, dense-caption JSON or JSON Lines file as new `.vscan` files (never over existing ones). */
export namespace ImportAnnotationsRequest {
  export const method = 'videoScan/importAnnotations';
  export const type = new ProtocolRequestType<{ file: string; out?: string }, { written: string[] }, never, void, void>(method);
}

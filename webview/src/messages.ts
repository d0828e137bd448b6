/**
 * The messages between the extension and the preview webview: one discriminated union
 * per direction, keyed on `type`, imported by both sides.
 */

/** Extension → webview. */
export type ToWebview =
  /** Seek the video to `seconds`; `version` is the document version it was computed from. */
  | { type: 'seek'; seconds: number; version: number };

/** Webview → extension. */
export type FromWebview =
  /** The webview's script has loaded and listens. */
  | { type: 'ready' }
  /** The video's playhead moved (throttled by the webview). */
  | { type: 'time'; seconds: number };

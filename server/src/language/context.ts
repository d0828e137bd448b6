/**
 * What the language service knows about the world outside the text. The service never
 * touches the file system or ffmpeg: the server and the CLI gather this and pass it in.
 */

/** The video a .vscan file is linked to, as resolved by the caller. */
export interface LinkedVideo {
  /** Absolute file-system path. */
  path: string;
  /** The same as a `file:` URI (for document links). */
  uri: string;
  /** True when named by a `Video:` header; false when found beside the file by base name. */
  explicit: boolean;
  exists: boolean;
  /** Known once the video has been probed; undefined while a probe is pending. */
  durationSec?: number;
  /** Why probing failed (not a video, unreadable), if it did. */
  probeError?: string;
  /**
   * Set when the video was deliberately not probed because the workspace is not trusted
   * (no child process runs there); range checks are skipped and say why.
   */
  untrusted?: boolean;
}

export interface DocumentContext {
  /** Undefined when no video is linked (no header and nothing beside the file). */
  video?: LinkedVideo;
  /** Video files beside the document (names relative to its folder), for quick fixes and completion. */
  siblingVideos?: string[];
}

/** File extensions treated as videos. */
export const VIDEO_EXTENSIONS = ['.mp4', '.mov', '.m4v', '.mkv', '.webm', '.avi'] as const;

/** Whether a file name has one of the video extensions (case-insensitive). */
export function isVideoFileName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && (VIDEO_EXTENSIONS as readonly string[]).includes(name.slice(dot).toLowerCase());
}

/**
 * Answers `videoScan/filmstrip`: the linked video's frame plan (modelView, the same as the
 * timeline's model-frames row) decoded into a cached sprite (tasks/filmstrip.ts). Trusted
 * workspaces only: it runs ffmpeg on a file the document names.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CancellationToken } from 'vscode-languageserver/node';
import type { VscanDocument } from '../language';
import { filmstrip } from '../tasks/filmstrip';
import { modelView, type ModelViewOptions } from '../tasks/modelView';
import type { ProbeCache } from '../video/probe';
import { resolveDocumentContext } from '../workspace/videoContext';
import type { FilmstripResult } from './protocol';

export interface FilmstripInputs {
  probes: ProbeCache;
  trusted: boolean;
  view: ModelViewOptions;
  /** Where sprites are kept (the client's storage); a temp folder when it named none. */
  cacheDir: string | undefined;
  ffmpegPath: string | undefined;
}

export async function documentFilmstrip(doc: VscanDocument, documentPath: string, inputs: FilmstripInputs, token: CancellationToken): Promise<FilmstripResult | null> {
  if (!inputs.trusted) return null;
  const { context } = await resolveDocumentContext(doc, documentPath, { probes: inputs.probes, probeWaitMs: 0, trusted: true });
  const video = context.video;
  if (!video?.exists) return null;
  const probe = await inputs.probes.get(video.path); // waited for here, not in the context
  const view = modelView(probe, inputs.view);
  if (!view?.frameIndices.length) return null;
  const controller = new AbortController();
  const subscription = token.onCancellationRequested(() => controller.abort());
  try {
    const frames = view.frameIndices.map((index, i) => ({ index, time: view.frameTimes[i] }));
    const strip = await filmstrip(video.path, frames, probe, inputs.cacheDir ?? join(tmpdir(), 'video-scan-filmstrips'), { ffmpegPath: inputs.ffmpegPath, signal: controller.signal });
    return { ...strip, image: pathToFileURL(strip.image).toString() };
  } finally {
    subscription.dispose();
  }
}

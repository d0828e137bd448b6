/** Maps the client's `videoScan.*` configuration onto the language service's settings. */
import { normalizeSettings, type VscanSettings } from '../language';

/** The `videoScan` configuration section as VS Code sends it (see package.json). */
export interface VideoScanConfiguration {
  diagnostics?: { severity?: unknown; rangeTolerance?: unknown; overlapTolerance?: unknown };
  format?: { timeStyle?: unknown };
  ffprobe?: { path?: unknown };
}

export interface ServerSettings {
  language: VscanSettings;
  ffprobePath: string | undefined;
}

export function readServerSettings(raw: unknown): ServerSettings {
  const config = (raw && typeof raw === 'object' ? raw : {}) as VideoScanConfiguration;
  const diagnostics = config.diagnostics ?? {};
  const ffprobePath = config.ffprobe?.path;
  return {
    language: normalizeSettings({
      severity: diagnostics.severity,
      rangeTolerance: diagnostics.rangeTolerance,
      overlapTolerance: diagnostics.overlapTolerance,
      timeStyle: config.format?.timeStyle,
    }),
    ffprobePath: typeof ffprobePath === 'string' && ffprobePath ? ffprobePath : undefined,
  };
}

/**
 * videoScan/modelInfo and videoScan/downloadModel: what the model setting names, and its
 * download from the Hub with work-done progress (bytes, rate, time left, percentage) and
 * cancellation from the request or the progress notification.
 */
import {
  type CancellationToken, type Connection, ErrorCodes, LSPErrorCodes, ResponseError,
  type WorkDoneProgressReporter, type WorkDoneProgressServerReporter,
} from 'vscode-languageserver/node';
import { explainHubFailure, HubError, isOffline } from '../model/acquire/hubClient';
import { downloadSnapshot, planDownload } from '../model/acquire/hubDownload';
import { parseModelSpec } from '../model/acquire/modelSpec';
import { describeModel } from '../model/acquire/resolveModel';
import { describeTransfer, formatBytes, percentDone } from '../model/acquire/transferProgress';
import { DownloadModelRequest, type ModelInfo, ModelInfoRequest } from './protocol';

/** Answers the two model requests; `configured` is the model setting at the time of the request. */
export function registerModelRequests(connection: Connection, configured: () => string): void {
  /** One download per repo at a time (two would write the same .incomplete file). */
  const downloading = new Set<string>();

  connection.onRequest(ModelInfoRequest.type, async (params, token: CancellationToken): Promise<ModelInfo> => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    return describeModel(params.spec || configured(), { signal: controller.signal, ...(params.token ? { token: params.token } : {}) });
  });

  connection.onRequest(DownloadModelRequest.type, async (params, token: CancellationToken): Promise<ModelInfo> => {
    const spec = params.spec || configured();
    const parsed = parseModelSpec(spec);
    if (parsed.kind === 'folder') return describeModel(spec); // nothing to download
    if (isOffline()) throw new ResponseError(LSPErrorCodes.RequestFailed, `${spec}: HF_HUB_OFFLINE is set; nothing can be downloaded`);
    if (downloading.has(parsed.repo)) throw new ResponseError(LSPErrorCodes.RequestFailed, `${parsed.repo}: a download is already running`);
    downloading.add(parsed.repo);
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    const progress: WorkDoneProgressReporter = params.workDoneToken !== undefined
      ? connection.window.attachWorkDoneProgress(params.workDoneToken)
      : await connection.window.createWorkDoneProgress();
    (progress as Partial<WorkDoneProgressServerReporter>).token?.onCancellationRequested(() => controller.abort());
    progress.begin(`Downloading ${parsed.repo}`, 0, 'asking the Hub', true);
    const hub = { signal: controller.signal, ...(params.token ? { token: params.token } : {}) };
    try {
      const plan = await planDownload(parsed.repo, parsed.revision, hub);
      progress.report(0, `${formatBytes(plan.downloadBytes)} to download`);
      await downloadSnapshot(plan, { ...hub, onProgress: (p) => progress.report(percentDone(p), describeTransfer(p)) });
      return await describeModel(spec, hub);
    } catch (error) {
      if (controller.signal.aborted) throw new ResponseError(LSPErrorCodes.RequestCancelled, `${spec}: download cancelled; the next download resumes it`);
      const explained = explainHubFailure(error, spec, hub);
      // No network but a complete cached snapshot: that is the model (as Python falls back to it).
      const cached = explained instanceof HubError && explained.unreachable ? await describeModel(spec) : undefined;
      if (cached?.ready) return cached;
      throw new ResponseError(explained.name === 'HubError' ? LSPErrorCodes.RequestFailed : ErrorCodes.InternalError, explained.message);
    } finally {
      downloading.delete(parsed.repo);
      progress.done();
    }
  });
}

/**
 * Getting the model, once, with consent: before a model command runs, the client asks the
 * server what `videoScan.model.checkpoint` names (`videoScan/modelInfo`); a Hub model not
 * yet in the Hugging Face cache is downloaded (`videoScan/downloadModel`) after a modal that
 * shows its size and licence. The answer is remembered per repo, the Hugging Face token
 * lives in the secret storage, and the models used lately feed Select Model….
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { DownloadModelRequest, type ModelInfo, ModelInfoRequest } from '../../server/src/lsp/protocol';
import { DEFAULT_MODEL, formatBytes, licenceInWords, problemOf } from './modelText';
import { messageOf, wasCancelled, withServerProgress } from './progress';

const TOKEN_SECRET = 'videoScan.huggingFaceToken';
const CONSENT_KEY = 'videoScan.downloadConsent';
const RECENT_KEY = 'videoScan.recentModels';
const RECENT_MAX = 8;
/** Set while the configured model is on this machine: the walkthrough's first step completes on it. */
const READY_CONTEXT = 'videoScan.modelReady';

/**
 * The configured model, by the server's rule: `videoScan.model.checkpoint`, unless it is at
 * its default and the deprecated `videoScan.model.path` names a folder.
 */
export function configuredModel(): string {
  const model = vscode.workspace.getConfiguration('videoScan.model');
  const checkpoint = model.get<string>('checkpoint')?.trim() || DEFAULT_MODEL;
  return checkpoint === DEFAULT_MODEL ? model.get<string>('path')?.trim() || checkpoint : checkpoint;
}

export class ModelAccess {
  constructor(private readonly context: vscode.ExtensionContext, private readonly client: LanguageClient, private readonly output: vscode.LogOutputChannel) {}

  /** The Hugging Face token the user stored, if any. */
  async token(): Promise<string | undefined> {
    return (await this.context.secrets.get(TOKEN_SECRET)) || undefined;
  }

  /** Asks for a token (hidden input) and stores it in the secret storage; an empty answer removes it. */
  async setToken(): Promise<void> {
    const had = await this.token();
    const value = await vscode.window.showInputBox({
      title: 'Hugging Face Token',
      prompt: had ? 'A token is stored. Enter a new one, or leave empty and press Enter to remove it.' : 'A read token from huggingface.co/settings/tokens, for private or gated models. Stored in VS Code\'s secret storage.',
      password: true,
      ignoreFocusOut: true,
      placeHolder: 'hf_…',
      validateInput: (text) => (text && /\s/.test(text.trim()) ? 'A token has no spaces' : undefined),
    });
    if (value === undefined) return;
    if (value.trim()) {
      await this.context.secrets.store(TOKEN_SECRET, value.trim());
      void vscode.window.showInformationMessage('Hugging Face token stored; video-scan sends it with model downloads.');
    } else if (had) {
      await this.context.secrets.delete(TOKEN_SECRET);
      void vscode.window.showInformationMessage('Hugging Face token removed.');
    }
  }

  /** What a model spec names and whether it is here (default: the configured model). */
  async info(spec?: string): Promise<ModelInfo> {
    const token = await this.token();
    const info = await this.client.sendRequest(ModelInfoRequest.type, { ...(spec ? { spec } : {}), ...(token ? { token } : {}) });
    if (!spec || spec === configuredModel()) void vscode.commands.executeCommand('setContext', READY_CONTEXT, info.ready);
    return info;
  }

  /** The models used lately, most recent first. */
  recent(): string[] {
    return this.context.globalState.get<string[]>(RECENT_KEY, []).filter((s) => typeof s === 'string');
  }

  async remember(spec: string): Promise<void> {
    await this.context.globalState.update(RECENT_KEY, [spec, ...this.recent().filter((s) => s !== spec)].slice(0, RECENT_MAX));
  }

  /**
   * Makes sure the configured model is here before a model command runs: asks the server,
   * and for a Hub model not yet downloaded asks consent (once per repo) and downloads it
   * with progress. False when the command should not go on (the reason was shown).
   */
  async ensureReady(): Promise<boolean> {
    let info: ModelInfo;
    try {
      info = await this.info();
    } catch (error) {
      void vscode.window.showErrorMessage(`video-scan could not check the model ${configuredModel()}: ${messageOf(error)}`);
      return false;
    }
    if (info.ready) return true;
    return (await this.download(info)) !== undefined;
  }

  /**
   * Downloads a Hub model (default: the configured one) after the consent modal, unless
   * this repo was agreed to before. Answers the model's info once it is ready, or undefined
   * (cancelled, refused or failed; the reason shown).
   */
  async download(from?: ModelInfo): Promise<ModelInfo | undefined> {
    let info = from;
    try {
      info ??= await this.info();
    } catch (error) {
      void vscode.window.showErrorMessage(`video-scan could not check the model ${configuredModel()}: ${messageOf(error)}`);
      return undefined;
    }
    if (info.ready) {
      if (from === undefined) void vscode.window.showInformationMessage(`${info.spec} is already downloaded${info.localDir ? ` (${info.localDir})` : ''}.`);
      return info;
    }
    if (info.kind !== 'hub' || info.problem || info.downloadBytes === undefined) {
      await this.showProblem(info);
      return undefined;
    }
    if (!(await this.consent(info))) return undefined;
    const spec = info.spec;
    try {
      const token = await this.token();
      const done = await withServerProgress(this.client, `Downloading ${info.repo ?? spec}`, (cancel, workDoneToken) =>
        this.client.sendRequest(DownloadModelRequest.type, { spec, workDoneToken, ...(token ? { token } : {}) }, cancel));
      if (!done.ready) {
        await this.showProblem(done);
        return undefined;
      }
      this.output.info(`Downloaded ${spec} into ${done.localDir ?? 'the Hugging Face cache'}`);
      if (spec === configuredModel()) void vscode.commands.executeCommand('setContext', READY_CONTEXT, true);
      await this.remember(spec);
      return done;
    } catch (error) {
      if (wasCancelled(error)) {
        void vscode.window.showInformationMessage(`Download of ${spec} cancelled; what was downloaded is kept and the next download resumes.`);
        return undefined;
      }
      // A token helps only when the Hub refused access; anything else (network, disk) is worth a retry.
      const refused = /\b40[13]\b|token|gated|private|access/i.test(messageOf(error));
      void vscode.window.showErrorMessage(`Download of ${spec} failed: ${messageOf(error)}`, refused ? 'Set Hugging Face Token…' : 'Retry', 'Show Log').then((choice) => {
        if (choice === 'Set Hugging Face Token…') void vscode.commands.executeCommand('videoScan.setHuggingFaceToken');
        if (choice === 'Retry') void this.download();
        if (choice === 'Show Log') this.output.show(true);
      });
      return undefined;
    }
  }

  /** The consent modal: size, licence (with a button to read it), Download / Cancel. */
  private async consent(info: ModelInfo): Promise<boolean> {
    const repo = info.repo ?? info.spec;
    const agreed = this.context.globalState.get<string[]>(CONSENT_KEY, []);
    if (agreed.includes(repo)) return true;
    const size = formatBytes(info.downloadBytes ?? 0);
    const whole = info.totalBytes !== undefined && info.totalBytes !== info.downloadBytes ? ` (${formatBytes(info.totalBytes)} in all; the rest is already here)` : '';
    const detail = [
      `${size} to download into the Hugging Face cache${whole}.`,
      `Licence: ${licenceInWords(info.license)}. Read it before you use the model's output.`,
      'video-scan runs the model on this machine; nothing is sent anywhere.',
    ].join('\n\n');
    const licenceUrl = info.licenseUrl;
    // Reading the licence opens it and asks again; a bounded number of times.
    for (let round = 0; round < 5; round++) {
      const choice = await vscode.window.showInformationMessage(`Download the model ${repo}${info.revision && info.revision !== 'main' ? `@${info.revision}` : ''}?`,
        { modal: true, detail }, 'Download', ...(licenceUrl ? ['Read the Licence'] : []));
      if (choice === 'Download') {
        await this.context.globalState.update(CONSENT_KEY, [repo, ...agreed.filter((r) => r !== repo)]);
        return true;
      }
      if (choice !== 'Read the Licence' || !licenceUrl) return false;
      await vscode.env.openExternal(vscode.Uri.parse(licenceUrl));
    }
    return false;
  }

  private async showProblem(info: ModelInfo): Promise<void> {
    const reason = problemOf(info) ?? (info.kind === 'folder' ? 'the folder is not a complete checkpoint' : 'the Hub did not say what to download');
    const actions = ['Select Model…', ...(info.kind === 'hub' ? ['Set Hugging Face Token…'] : [])];
    const choice = await vscode.window.showErrorMessage(`Model ${info.spec}: ${reason}`, ...actions);
    if (choice === 'Select Model…') void vscode.commands.executeCommand('videoScan.selectModel');
    if (choice === 'Set Hugging Face Token…') void vscode.commands.executeCommand('videoScan.setHuggingFaceToken');
  }
}

/**
 * Select Model…: a QuickPick with the default Hub model, the models used lately, "Enter a
 * Hub id…" and "Choose a folder…", each marked downloaded or not as the server answers
 * (`videoScan/modelInfo`, asked for all at once). The choice is written to
 * `videoScan.model.checkpoint` where it is set now (workspace or user settings).
 */
import * as vscode from 'vscode';
import { configuredModel, type ModelAccess } from './modelAccess';
import { availability, DEFAULT_MODEL, formatBytes, hubIdProblem, problemOf } from './modelText';
import { messageOf } from './progress';

interface ModelItem extends vscode.QuickPickItem {
  spec?: string;
  action?: 'enterHubId' | 'chooseFolder';
}

async function enterHubId(): Promise<string | undefined> {
  const value = await vscode.window.showInputBox({
    title: 'Select Model: Hugging Face Hub id',
    prompt: 'owner/name, optionally @revision (a branch, tag or commit)',
    placeHolder: DEFAULT_MODEL,
    ignoreFocusOut: true,
    validateInput: (text) => hubIdProblem(text),
  });
  return value?.trim() || undefined;
}

async function chooseFolder(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use this checkpoint', title: 'Select Model: a checkpoint folder (config.json, safetensors, tokenizer)' });
  return picked?.[0]?.fsPath;
}

/** Writes the choice where the setting lives now: the workspace if it sets one, otherwise the user settings. */
async function writeModelSetting(spec: string): Promise<void> {
  const config = vscode.workspace.getConfiguration('videoScan.model');
  const inspected = config.inspect<string>('checkpoint');
  const target = inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('checkpoint', spec, target);
}

/** Runs the picker; answers the spec written, or undefined when dismissed. */
export async function selectModel(models: ModelAccess): Promise<string | undefined> {
  const current = configuredModel();
  const specs = [...new Set([DEFAULT_MODEL, current, ...models.recent()])];
  const items: ModelItem[] = specs.map((spec) => ({
    label: spec,
    spec,
    description: 'checking…',
    detail: [spec === DEFAULT_MODEL ? 'default' : undefined, spec === current ? 'selected now' : undefined].filter(Boolean).join(' · ') || undefined,
  }));
  const actions: ModelItem[] = [
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(edit) Enter a Hub id…', action: 'enterHubId', detail: 'A model on huggingface.co: owner/name[@revision]' },
    { label: '$(folder) Choose a folder…', action: 'chooseFolder', detail: 'A checkpoint folder in the Hugging Face layout' },
  ];
  const pick = vscode.window.createQuickPick<ModelItem>();
  pick.title = 'video-scan: Select Model';
  pick.placeholder = `Selected now: ${current}`;
  pick.matchOnDescription = true;
  pick.items = [...items, ...actions];
  pick.activeItems = items.filter((i) => i.spec === current);
  pick.busy = true;
  let open = true;
  // Each model's state arrives on its own; the list updates as answers come (the picker stays usable meanwhile).
  void Promise.all(items.map(async (item) => {
    try {
      item.description = availability(await models.info(item.spec));
    } catch (error) {
      item.description = `$(warning) ${messageOf(error)}`;
    }
    if (open) {
      const active = pick.activeItems.map((a) => a.spec ?? a.action);
      pick.items = [...items, ...actions];
      pick.activeItems = pick.items.filter((i) => active.includes(i.spec ?? i.action));
    }
  })).finally(() => { pick.busy = false; });
  const chosen = await new Promise<ModelItem | undefined>((resolve) => {
    pick.onDidAccept(() => { resolve(pick.selectedItems[0]); pick.hide(); });
    pick.onDidHide(() => { resolve(undefined); open = false; pick.dispose(); });
    pick.show();
  });
  if (!chosen) return undefined;
  const spec = chosen.action === 'enterHubId' ? await enterHubId() : chosen.action === 'chooseFolder' ? await chooseFolder() : chosen.spec;
  if (!spec) return undefined;
  await writeModelSetting(spec);
  await models.remember(spec);
  try {
    const info = await models.info(spec);
    if (info.ready) {
      void vscode.window.showInformationMessage(`video-scan uses ${spec} (downloaded).`);
    } else if (info.kind === 'hub' && !info.problem) {
      const size = info.downloadBytes !== undefined ? ` (${formatBytes(info.downloadBytes)})` : '';
      const choice = await vscode.window.showInformationMessage(`video-scan uses ${spec}: not downloaded yet${size}; it downloads when a caption first needs it.`, 'Download Now');
      if (choice === 'Download Now') await vscode.commands.executeCommand('videoScan.downloadModel');
    } else {
      void vscode.window.showWarningMessage(`video-scan uses ${spec}, but ${problemOf(info) ?? 'it is not a complete checkpoint'}.`);
    }
  } catch (error) {
    void vscode.window.showWarningMessage(`video-scan uses ${spec}; its state is unknown: ${messageOf(error)}`);
  }
  return spec;
}

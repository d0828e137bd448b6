/**
 * `videoScan.model.path` (a folder) became `videoScan.model.checkpoint` (a Hub id or a
 * folder). On activation each scope that still sets the old key has its value moved to the
 * new key in the same scope (user, workspace, or workspace folder), unless the new key is
 * already set there, and the old key is cleared; the user is told in one line.
 */
import * as vscode from 'vscode';

interface Scope {
  label: string;
  target: vscode.ConfigurationTarget;
  config: vscode.WorkspaceConfiguration;
  old: unknown;
  current: unknown;
}

function scopesOf(config: vscode.WorkspaceConfiguration, folder?: vscode.WorkspaceFolder): Scope[] {
  const old = config.inspect('path');
  const current = config.inspect('checkpoint');
  if (folder) {
    return [{ label: `workspace folder ${folder.name}`, target: vscode.ConfigurationTarget.WorkspaceFolder, config, old: old?.workspaceFolderValue, current: current?.workspaceFolderValue }];
  }
  return [
    { label: 'user', target: vscode.ConfigurationTarget.Global, config, old: old?.globalValue, current: current?.globalValue },
    { label: 'workspace', target: vscode.ConfigurationTarget.Workspace, config, old: old?.workspaceValue, current: current?.workspaceValue },
  ];
}

/** Moves every scope's `videoScan.model.path` to `videoScan.model.checkpoint`; answers the scopes moved. */
export async function migrateModelPath(log: vscode.LogOutputChannel): Promise<string[]> {
  const scopes = [
    ...scopesOf(vscode.workspace.getConfiguration('videoScan.model')),
    // Folder values only exist in multi-root workspaces (a single folder's are the workspace's).
    ...(vscode.workspace.workspaceFile ? (vscode.workspace.workspaceFolders ?? []).flatMap((f) => scopesOf(vscode.workspace.getConfiguration('videoScan.model', f.uri), f)) : []),
  ];
  const moved: string[] = [];
  for (const scope of scopes) {
    if (typeof scope.old !== 'string') continue;
    try {
      if (scope.old.trim() && (typeof scope.current !== 'string' || !scope.current.trim())) {
        await scope.config.update('checkpoint', scope.old.trim(), scope.target);
      }
      await scope.config.update('path', undefined, scope.target);
      moved.push(scope.label);
      log.info(`settings: moved videoScan.model.path (${scope.old}) to videoScan.model.checkpoint in the ${scope.label} settings`);
    } catch (error) {
      // A settings file that cannot be written (read-only, invalid JSON) keeps the old key, which still works.
      void vscode.window.showWarningMessage(`video-scan could not move videoScan.model.path to videoScan.model.checkpoint in the ${scope.label} settings: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (moved.length) {
    void vscode.window.showInformationMessage(`videoScan.model.path is now videoScan.model.checkpoint (moved in the ${moved.join(', ')} settings).`);
  }
  return moved;
}

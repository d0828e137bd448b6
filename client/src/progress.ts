/** Server work-done progress shown as a cancellable VS Code notification. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { type LanguageClient, WorkDoneProgress } from 'vscode-languageclient/node';

/**
 * Runs a server request under a cancellable notification fed by the server's work-done
 * progress (its message as written, its percentage as increments). Cancelling the
 * notification cancels the request (the token passed to `run`).
 */
export async function withServerProgress<R>(client: LanguageClient, title: string, run: (token: vscode.CancellationToken, workDoneToken: string) => Promise<R>): Promise<R> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const workDoneToken = randomBytes(8).toString('hex');
    let last = 0;
    const listener = client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
      if (value.kind === 'end') return;
      const percentage = 'percentage' in value ? value.percentage : undefined;
      const increment = percentage === undefined ? undefined : Math.max(0, percentage - last);
      if (percentage !== undefined) last = percentage;
      progress.report({ message: value.message, increment });
    });
    try {
      return await run(token, workDoneToken);
    } finally {
      listener.dispose();
    }
  });
}

/** Whether a request failed because it was cancelled (by the user or the server). */
export function wasCancelled(error: unknown): boolean {
  return /cancel/i.test(error instanceof Error ? error.message : String(error));
}

/** An error's message, for one-line reports. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

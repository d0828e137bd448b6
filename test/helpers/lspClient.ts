/**
 * A real LSP client for protocol tests: starts `node dist/server.js --stdio` and speaks
 * JSON-RPC to it. Waits are on events (with a timeout that fails the test), never sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ConfigurationRequest,
  LogMessageNotification,
  createProtocolConnection,
  type Diagnostic,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  IPCMessageReader,
  IPCMessageWriter,
  type ProtocolConnection,
  PublishDiagnosticsNotification,
  type PublishDiagnosticsParams,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';

export const SERVER = join(__dirname, '..', '..', 'dist', 'server.js');

type Transport = 'stdio' | 'node-ipc';
type Waiter = { uri: string; accept: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void };

export class TestClient {
  readonly connection: ProtocolConnection;
  readonly process: ChildProcess;
  readonly stderr: string[] = [];
  private readonly latest = new Map<string, PublishDiagnosticsParams>();
  private waiters: Waiter[] = [];
  /** The server's window/logMessage lines, and who waits for one. */
  readonly logs: string[] = [];
  private logWaiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  private constructor(transport: Transport) {
    if (transport === 'stdio') {
      this.process = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
      this.connection = createProtocolConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    } else {
      // What the VS Code client uses: a forked process speaking over Node's IPC channel.
      this.process = spawn(process.execPath, [SERVER, '--node-ipc'], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
      this.connection = createProtocolConnection(new IPCMessageReader(this.process), new IPCMessageWriter(this.process));
    }
    this.process.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      this.latest.set(params.uri, params);
      this.waiters = this.waiters.filter((w) => {
        if (w.uri !== params.uri || !w.accept(params)) return true;
        w.resolve(params);
        return false;
      });
    });
    this.connection.onNotification(LogMessageNotification.type, ({ message }) => {
      this.logs.push(message);
      this.logWaiters = this.logWaiters.filter((w) => (w.pattern.test(message) ? (w.resolve(message), false) : true));
    });
    this.connection.listen();
  }

  /** The first log line matching `pattern` (already logged, or the next one; fails after 20 s). */
  log(pattern: RegExp): Promise<string> {
    const seen = this.logs.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern}; got ${JSON.stringify(this.logs.slice(-5))}`)), 20_000);
      this.logWaiters.push({ pattern, resolve: (line) => { clearTimeout(timer); resolve(line); } });
    });
  }

  /**
   * `more.initialization`: initializationOptions beside the settings (e.g. `{ trusted: false }`).
   * `more.configuration`: declare workspace/configuration and answer it with this `videoScan`
   * section, as VS Code does (the server then pulls its settings).
   * `more.workspaceFolders`: folder paths sent as the workspace's folders.
   */
  static async start(settings?: unknown, transport: Transport = 'stdio', more: { initialization?: Record<string, unknown>; configuration?: unknown; workspaceFolders?: string[] } = {}): Promise<TestClient> {
    const client = new TestClient(transport);
    const options = { ...(settings === undefined ? {} : { settings }), ...more.initialization };
    if (more.configuration !== undefined) {
      client.connection.onRequest(ConfigurationRequest.type, (params) => params.items.map(() => more.configuration));
    }
    // A client with workspace folders says it can report their changes, as VS Code does, and accepts the server's registration for them.
    if (more.workspaceFolders) client.connection.onRequest('client/registerCapability', () => null);
    await client.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      workspaceFolders: more.workspaceFolders?.map((path) => ({ uri: pathToFileURL(path).href, name: basename(path) })) ?? null,
      capabilities: { workspace: { ...(more.configuration !== undefined ? { configuration: true } : {}), ...(more.workspaceFolders ? { workspaceFolders: true } : {}) } },
      initializationOptions: Object.keys(options).length ? options : undefined,
    });
    await client.connection.sendNotification(InitializedNotification.type, {});
    return client;
  }

  async open(uri: string, text: string, version = 1): Promise<void> {
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'vscan', version, text } });
  }

  async change(uri: string, version: number, changes: { range?: Diagnostic['range']; text: string }[]): Promise<void> {
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version },
      contentChanges: changes.map((c) => (c.range ? { range: c.range, text: c.text } : { text: c.text })),
    });
  }

  /** The next diagnostics for `uri` that satisfy `accept` (the latest already received counts). */
  diagnostics(uri: string, accept: (p: PublishDiagnosticsParams) => boolean = () => true, timeoutMs = 20_000): Promise<PublishDiagnosticsParams> {
    const current = this.latest.get(uri);
    if (current && accept(current)) return Promise.resolve(current);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${uri} within ${timeoutMs} ms; last: ${JSON.stringify(this.latest.get(uri)?.diagnostics.map((d) => d.code))}`)), timeoutMs);
      this.waiters.push({ uri, accept, resolve: (p) => { clearTimeout(timer); resolve(p); } });
    });
  }

  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.process.once('exit', (code) => resolve(code)));
    await this.connection.sendRequest(ShutdownRequest.type);
    await this.connection.sendNotification(ExitNotification.type);
    const code = await exited;
    this.connection.dispose();
    return code;
  }
}

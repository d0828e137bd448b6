/**
 * Entry point of the language server (dist/server.js). The transport comes from the
 * command line, as vscode-languageserver reads it: `--stdio`, `--node-ipc` or
 * `--socket=PORT`.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './lsp/server';
import { endToolsOnTermination } from './video/tools';

const connection = createConnection(ProposedFeatures.all);

// A bug in one request must never take the server down with the user's session.
process.on('uncaughtException', (error) => connection.console.error(`Uncaught: ${error.stack ?? error.message}`));
process.on('unhandledRejection', (reason) => connection.console.error(`Unhandled rejection: ${String(reason)}`));

// However the server is stopped, no media worker (or ffprobe/ffmpeg) it started outlives it.
endToolsOnTermination();
startServer(connection);

// Builds every target of the extension into dist/.
//   node esbuild.mjs               one development build
//   node esbuild.mjs --watch       rebuild on change
//   node esbuild.mjs --production  minified, no source maps (packaging)
// Types are checked separately by `npm run typecheck` (tsc), so a type error never
// blocks a quick rebuild.
import * as esbuild from 'esbuild';
import { chmod } from 'node:fs/promises';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
};

// Native and binary-shipping packages stay outside the bundle and are shipped beside it:
// they locate their own files relative to their package folder.
const nodeExternals = ['onnxruntime-node', 'webgpu'];

/** @type {esbuild.BuildOptions[]} */
const targets = [
  {
    ...common,
    entryPoints: { client: 'client/src/extension.ts' },
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The client probes videos and makes preview proxies too (through the media worker).
    external: ['vscode', ...nodeExternals],
  },
  {
    ...common,
    entryPoints: {
      server: 'server/src/main.ts',
      cli: 'server/src/cli/main.ts',
      resizeWorker: 'server/src/video/resizeWorker.ts',
      quantizeWorker: 'server/src/model/runtime/quantizeWorker.ts',
      templateWorker: 'server/src/model/checkpoint/templateWorker.ts',
      engine: 'server/src/model/runtime/engineProcess.ts',
    },
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
  },
  {
    // The media worker (server/src/video/media/): node-av's JavaScript is bundled in, so the
    // package ships only the platform's native addon (@seydx/node-av-<platform>). node-av is
    // ES modules: its loader finds that addon from import.meta.url, given here as the bundle's
    // own URL (dist/ sits beside node_modules/, where the addon's package is).
    ...common,
    entryPoints: { media: 'server/src/video/media/mediaWorker.ts' },
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  },
  {
    // The client suite for @vscode/test-electron (npm run test:vscode): out/, not packaged.
    ...common,
    outdir: 'out',
    entryPoints: { 'vscode-suite': 'test/vscode/suite.ts' },
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: { webview: 'webview/src/main.ts' },
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  },
];

const outdir = 'dist';
if (watch) {
  for (const options of targets) {
    const ctx = await esbuild.context({ outdir, ...options });
    await ctx.watch();
  }
  console.log('esbuild: watching for changes');
} else {
  await Promise.all(targets.map((options) => esbuild.build({ outdir, ...options })));
  // The CLI is run directly as `vscan`; its shebang comes from the source file.
  await chmod(`${outdir}/cli.js`, 0o755);
}

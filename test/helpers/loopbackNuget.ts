/**
 * A NuGet v3 feed on 127.0.0.1 speaking the parts of the protocol the installer uses:
 * service index, flat container (versions list and .nupkg), registration leaf and catalog
 * leaf (packageHash, SHA-512). It serves one package made in the test: a real zip with the
 * entry names of Microsoft.ML.OnnxRuntime.Gpu.Linux and fake library contents. Failure
 * modes: a wrong published hash, a connection dropped halfway through the .nupkg, a
 * download that stalls until the client gives up.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as yazl from 'yazl';

export const PACKAGE_ID = 'Microsoft.ML.OnnxRuntime.Gpu.Linux';

/** Fake contents per library; the test checks they arrive unchanged. */
export const FAKE_LIBRARIES: Record<string, Buffer> = {
  'libonnxruntime_providers_shared.so': Buffer.from('fake providers_shared\n'),
  // Incompressible and a few MiB, so the download arrives in many chunks.
  'libonnxruntime_providers_cuda.so': randomBytes(3 * 2 ** 20),
  'libonnxruntime_providers_tensorrt.so': Buffer.from('fake tensorrt (not installed)\n'),
};

/** A zip with a .nupkg's layout (nuspec, content types, runtimes/linux-x64/native/*.so). */
export async function makeFakeNupkg(version: string, libraries: Record<string, Buffer> = FAKE_LIBRARIES): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(`<?xml version="1.0"?><package><metadata><id>${PACKAGE_ID}</id><version>${version}</version></metadata></package>`), `${PACKAGE_ID}.nuspec`);
  zip.addBuffer(Buffer.from('<?xml version="1.0"?><Types/>'), '[Content_Types].xml');
  for (const [name, bytes] of Object.entries(libraries)) zip.addBuffer(bytes, `runtimes/linux-x64/native/${name}`);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export type NupkgMode = 'ok' | 'drop' | 'stall';

export interface LoopbackFeed {
  /** The service index URL. */
  index: string;
  /** Requests seen, by path. */
  requests: string[];
  /** How the next .nupkg requests are answered. */
  mode: NupkgMode;
  /** The hash the catalog publishes (defaults to the package's real one). */
  publishedHash: string;
  close(): Promise<void>;
}

export async function startLoopbackFeed(version: string, nupkg: Buffer): Promise<LoopbackFeed> {
  const id = PACKAGE_ID.toLowerCase();
  const realHash = createHash('sha512').update(nupkg).digest('base64');
  let server!: Server;
  const feed: LoopbackFeed = {
    index: '',
    requests: [],
    mode: 'ok',
    publishedHash: realHash,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  server = createServer((req, res) => {
    const path = req.url ?? '';
    feed.requests.push(path);
    const base = feed.index.replace(/\/v3\/index\.json$/, '');
    const json = (body: unknown) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (path === '/v3/index.json') {
      return json({ version: '3.0.0', resources: [
        { '@id': `${base}/flat/`, '@type': 'PackageBaseAddress/3.0.0' },
        { '@id': `${base}/registration/`, '@type': 'RegistrationsBaseUrl/3.6.0' },
      ] });
    }
    if (path === `/flat/${id}/index.json`) return json({ versions: ['1.29.0', version] });
    if (path === `/registration/${id}/${version}.json`) return json({ '@id': `${base}${path}`, catalogEntry: `${base}/catalog/${id}.${version}.json` });
    if (path === `/catalog/${id}.${version}.json`) return json({ id: PACKAGE_ID, version, packageHash: feed.publishedHash, packageHashAlgorithm: 'SHA512' });
    if (path === `/flat/${id}/${version}/${id}.${version}.nupkg`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': nupkg.length });
      if (feed.mode === 'ok') return res.end(nupkg);
      // Half the bytes, then the connection goes (drop) or nothing more comes (stall).
      res.write(nupkg.subarray(0, nupkg.length >> 1));
      if (feed.mode === 'drop') setImmediate(() => res.socket?.destroy());
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  feed.index = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/index.json`;
  return feed;
}

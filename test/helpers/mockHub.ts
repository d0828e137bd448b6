/**
 * A loopback mock of the Hugging Face Hub's HTTP API, for tests that must not touch the
 * network. It serves model repos read from folders, speaking what @huggingface/hub and
 * Python's huggingface_hub use:
 *
 * - `GET /api/models/{repo}[/revision/{rev}]` — model info: `sha` (the commit), `cardData.license`, `siblings`;
 * - `GET /api/models/{repo}/tree/{rev}[/{path}]` — the file listing with git oids, sizes and LFS
 *   `{oid: sha256, size, pointerSize}`; `POST /api/models/{repo}/paths-info/{rev}` likewise;
 * - `HEAD|GET /{repo}/resolve/{rev}/{file}` — regular files answered in place (ETag = git blob
 *   sha1); LFS files (`*.safetensors` unless `lfs` says otherwise) redirected (302) to
 *   `/cdn/{sha256}` with `X-Linked-Etag` / `X-Linked-Size`; `X-Repo-Commit` on both; Range
 *   requests (206, Content-Range) everywhere, for resume.
 *
 * A repo marked `private` answers 401 to every request without `Authorization: Bearer
 * {token}`. Switches for failure tests: `dropNext(file, bytes)` closes the connection after
 * that many body bytes of the file's next download; `corruptNext(file)` flips a byte in it;
 * `stallNext(file, bytes)` sends that many and then stalls.
 * Every request is logged in `requests` (method and path), for tests that must see none.
 *
 *     const hub = await startMockHub([{ id: 'owner/name', dir: checkpointDir, license: 'bsl-1.1' }]);
 *     process.env.HF_ENDPOINT = hub.url;  // or pass hub.url to a child process's env
 *     ...
 *     await hub.close();
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/** A repo to serve. */
export interface MockRepo {
  /** `owner/name`. */
  id: string;
  /** Folder whose files (recursively) are the repo's files. */
  dir: string;
  /** Declared in the card metadata (`cardData.license`). */
  license?: string;
  /** Answers 401 without the hub's token. */
  private?: boolean;
  /** Which files are stored with LFS (default: `*.safetensors`). */
  lfs?: (path: string) => boolean;
}

/** A running mock Hub. */
export interface MockHub {
  /** `http://127.0.0.1:PORT`: what HF_ENDPOINT should be. */
  url: string;
  /** The token private repos accept. */
  token: string;
  /** `METHOD /path?query` of every request so far, with ` [bytes=…]` when it asked for a range. */
  requests: string[];
  /** The commit `main` points at, per repo id. */
  commits: Map<string, string>;
  /** The next download of `file` (any repo) stops after `bytes` body bytes: the socket is destroyed. */
  dropNext(file: string, bytes: number): void;
  /** The next download of `file` (any repo) has one byte flipped. */
  corruptNext(file: string): void;
  /** The next download of `file` (any repo) sends `bytes` body bytes, then nothing more, holding the connection open (for cancellation tests). */
  stallNext(file: string, bytes: number): void;
  close(): Promise<void>;
}

interface ServedFile {
  path: string;
  content: Buffer;
  gitOid: string;
  sha256?: string;
}

interface ServedRepo {
  repo: MockRepo;
  commit: string;
  files: Map<string, ServedFile>;
}

async function walk(dir: string, root = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full, root)));
    else out.push(relative(root, full).split('\\').join('/'));
  }
  return out.sort();
}

function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

async function loadRepo(repo: MockRepo): Promise<ServedRepo> {
  const isLfs = repo.lfs ?? ((path: string) => path.endsWith('.safetensors'));
  const files = new Map<string, ServedFile>();
  for (const path of await walk(repo.dir)) {
    const content = await readFile(join(repo.dir, path));
    files.set(path, { path, content, gitOid: gitBlobSha1(content), ...(isLfs(path) ? { sha256: createHash('sha256').update(content).digest('hex') } : {}) });
  }
  // A stable commit id: the hash of the listing, as a git tree would be.
  const commit = createHash('sha1').update(repo.id).update([...files.values()].map((f) => `${f.path}:${f.gitOid}`).join('\n')).digest('hex');
  return { repo, commit, files };
}

function listing(file: ServedFile) {
  // An LFS file's git object is its pointer; its oid is the pointer's, its size the content's.
  const pointer = file.sha256 ? `version https://git-lfs.github.com/spec/v1\noid sha256:${file.sha256}\nsize ${file.content.length}\n` : undefined;
  return {
    type: 'file', path: file.path, size: file.content.length,
    oid: pointer ? gitBlobSha1(Buffer.from(pointer)) : file.gitOid,
    ...(file.sha256 ? { lfs: { oid: file.sha256, size: file.content.length, pointerSize: Buffer.byteLength(pointer!) } } : {}),
  };
}

/** Starts the mock on 127.0.0.1, port chosen by the system. */
export async function startMockHub(repos: MockRepo[], options: { token?: string } = {}): Promise<MockHub> {
  const token = options.token ?? 'hf_mocktoken0123456789';
  const served = new Map<string, ServedRepo>();
  for (const repo of repos) served.set(repo.id, await loadRepo(repo));
  const requests: string[] = [];
  const drops = new Map<string, number>();
  const corruptions = new Set<string>();
  const stalls = new Map<string, number>();
  let base = '';

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: ServerResponse, code: string) => json(res, 404, { error: `${code}` }, { 'X-Error-Code': code });

  const revisionOf = (entry: ServedRepo, rev: string): string | undefined => (rev === 'main' || rev === 'HEAD' || rev === entry.commit ? entry.commit : undefined);

  /** Sends a file's bytes, honouring Range and the failure switches. */
  function sendContent(req: IncomingMessage, res: ServerResponse, file: ServedFile, headers: Record<string, string>) {
    const total = file.content.length;
    const match = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = total - 1;
    if (match) {
      start = Number(match[1]);
      end = match[2] ? Math.min(Number(match[2]), total - 1) : total - 1;
      if (start >= total || start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${total}` });
        res.end();
        return;
      }
    }
    const body = file.content.subarray(start, end + 1);
    const status = match ? 206 : 200;
    res.writeHead(status, {
      ...headers, 'Content-Length': String(body.length), 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream',
      ...(match ? { 'Content-Range': `bytes ${start}-${end}/${total}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // Probes (Range: bytes=0-0) do not trigger the switches; real downloads do.
    const probe = body.length <= 1;
    let out = body;
    if (!probe && corruptions.delete(file.path)) {
      out = Buffer.from(body);
      out[Math.floor(out.length / 2)] ^= 0xff;
    }
    const stall = probe ? undefined : stalls.get(file.path);
    if (stall !== undefined && stall < out.length) {
      stalls.delete(file.path);
      res.write(out.subarray(0, stall)); // and never more: close() ends the connection
      return;
    }
    const drop = probe ? undefined : drops.get(file.path);
    if (drop !== undefined && drop < out.length) {
      drops.delete(file.path);
      res.write(out.subarray(0, drop), () => res.socket?.end()); // FIN after the bytes: the client sees a short body
      return;
    }
    res.end(out);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', base);
    requests.push(`${req.method} ${url.pathname}${url.search}${req.headers.range ? ` [${req.headers.range}]` : ''}`);
    const path = url.pathname.split('/').map((p) => decodeURIComponent(p));
    // /cdn/{sha256}: where LFS files are redirected (a CDN on the real Hub).
    if (path[1] === 'cdn' && path.length === 3) {
      for (const entry of served.values()) {
        for (const file of entry.files.values()) {
          if (file.sha256 === path[2]) return sendContent(req, res, file, { ETag: `"${file.sha256}"` });
        }
      }
      return notFound(res, 'EntryNotFound');
    }
    const api = path[1] === 'api' && path[2] === 'models';
    const repoId = api ? `${path[3]}/${path[4]}` : `${path[1]}/${path[2]}`;
    const entry = served.get(repoId);
    if (!entry) return json(res, 401, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
    if (entry.repo.private && req.headers.authorization !== `Bearer ${token}`) {
      return json(res, 401, { error: 'Invalid credentials in Authorization header' }, { 'X-Error-Code': 'RepoNotFound' });
    }
    if (api) {
      const [, , , , , action, rev, ...rest] = path;
      const commit = action === undefined || action === '' ? entry.commit : revisionOf(entry, rev ?? '');
      if (!commit) return notFound(res, 'RevisionNotFound');
      if (action === undefined || action === '' || action === 'revision') {
        return json(res, 200, {
          _id: createHash('md5').update(repoId).digest('hex').slice(0, 24), id: repoId, modelId: repoId, author: repoId.split('/')[0],
          sha: commit, private: entry.repo.private === true, gated: false, disabled: false, downloads: 0, likes: 0,
          lastModified: '2026-11-01T00:00:00.000Z', pipeline_tag: 'video-text-to-text', library_name: 'transformers',
          tags: entry.repo.license ? [`license:${entry.repo.license}`] : [],
          cardData: entry.repo.license ? { license: entry.repo.license } : {},
          siblings: [...entry.files.keys()].map((rfilename) => ({ rfilename })),
        });
      }
      if (action === 'tree') {
        const prefix = rest.join('/');
        const recursive = url.searchParams.get('recursive') === 'true';
        const items: unknown[] = [];
        const dirs = new Set<string>();
        for (const file of entry.files.values()) {
          if (prefix && !file.path.startsWith(`${prefix}/`)) continue;
          const inside = prefix ? file.path.slice(prefix.length + 1) : file.path;
          if (!recursive && inside.includes('/')) {
            const dir = `${prefix ? `${prefix}/` : ''}${inside.split('/')[0]}`;
            if (!dirs.has(dir)) items.push({ type: 'directory', path: dir, oid: createHash('sha1').update(dir).digest('hex'), size: 0 });
            dirs.add(dir);
            continue;
          }
          items.push(listing(file));
        }
        return json(res, 200, items);
      }
      if (action === 'paths-info' && req.method === 'POST') {
        let raw = '';
        req.on('data', (chunk: Buffer) => { if (raw.length < 1_000_000) raw += chunk.toString(); });
        req.on('end', () => {
          let paths: unknown = [];
          try {
            paths = (JSON.parse(raw) as { paths?: unknown }).paths;
          } catch {
            return json(res, 400, { error: 'bad JSON' });
          }
          const list = Array.isArray(paths) ? paths : [];
          json(res, 200, list.map((p) => entry.files.get(String(p))).filter((f): f is ServedFile => !!f).map((f) => ({ ...listing(f), lastCommit: { id: commit, title: 'mock', date: '2026-11-01T00:00:00.000Z' } })));
        });
        return;
      }
      return notFound(res, 'EntryNotFound');
    }
    if (path[3] !== 'resolve' || path.length < 6) return notFound(res, 'EntryNotFound');
    const commit = revisionOf(entry, path[4]);
    if (!commit) return notFound(res, 'RevisionNotFound');
    const file = entry.files.get(path.slice(5).join('/'));
    if (!file) return notFound(res, 'EntryNotFound');
    const common = { 'X-Repo-Commit': commit };
    if (file.sha256) {
      const pointerEtag = (listing(file) as { oid: string }).oid;
      res.writeHead(302, {
        ...common, Location: `${base}/cdn/${file.sha256}`, ETag: `"${pointerEtag}"`,
        'X-Linked-Etag': `"${file.sha256}"`, 'X-Linked-Size': String(file.content.length), 'Content-Length': '0',
      });
      res.end();
      return;
    }
    sendContent(req, res, file, { ...common, ETag: `"${file.gitOid}"` });
  }

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      json(res, 500, { error: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    token,
    requests,
    commits: new Map([...served].map(([id, entry]) => [id, entry.commit])),
    dropNext: (file, bytes) => void drops.set(file, bytes),
    corruptNext: (file) => void corruptions.add(file),
    stallNext: (file, bytes) => void stalls.set(file, bytes),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

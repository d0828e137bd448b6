/**
 * A loopback HTTP proxy in front of another loopback server that sends response bodies at
 * a set rate: a slow network, so that a download's progress can be seen (end-to-end tests).
 * Requests pass through unchanged (Host and redirect Locations rewritten to the proxy, so
 * redirected downloads are slowed too).
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ThrottlingProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  close(): Promise<void>;
}

/** Chunks per second: the rate is spread over this many writes. */
const TICKS_PER_SECOND = 20;

/** Starts the proxy on a free loopback port, forwarding to `target` (`http://127.0.0.1:PORT`). */
export async function startThrottlingProxy(target: string, bytesPerSecond: number): Promise<ThrottlingProxy> {
  const upstream = new URL(target);
  const chunk = Math.max(1, Math.floor(bytesPerSecond / TICKS_PER_SECOND));
  let self = '';
  const server = createServer((req, res) => {
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (answer: IncomingMessage) => {
      const headers = { ...answer.headers };
      if (typeof headers.location === 'string') headers.location = headers.location.replace(target, self);
      res.writeHead(answer.statusCode ?? 502, headers);
      // Body pieces are written one after another, each spread over ticks; the upstream is
      // paused meanwhile (memory stays bounded by one read), and the end waits for the last piece.
      let written = Promise.resolve();
      const tick = () => new Promise((resolve) => setTimeout(resolve, 1000 / TICKS_PER_SECOND));
      answer.on('data', (data: Buffer) => {
        answer.pause();
        written = written.then(async () => {
          for (let offset = 0; offset < data.length && !res.destroyed; offset += chunk) {
            res.write(data.subarray(offset, offset + chunk));
            await tick();
          }
          if (res.destroyed) answer.destroy();
          else answer.resume();
        });
      });
      answer.on('end', () => void written.then(() => res.end()));
      answer.on('error', () => res.destroy());
    });
    forward.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    req.pipe(forward);
    res.on('close', () => forward.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: self,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

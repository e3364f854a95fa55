/**
 * A recording CRM on loopback for specs and the benchmark: a real node:http
 * server on 127.0.0.1 (port 0) whose answer each test chooses, which records
 * every request and notices a client that leaves before the answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Behaviour {
  /** Default 200. */
  readonly status?: number;
  /** Default empty. */
  readonly body?: string | Buffer;
  /** Default `text/plain`; null sends no Content-Type. */
  readonly contentType?: string | null;
  /** Further response headers (e.g. a redirect's Location). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Send the body in pieces without Content-Length (chunked encoding). */
  readonly chunked?: boolean;
  /** Wait this long before answering (or destroying). */
  readonly delayMs?: number;
  /** Destroy the socket instead of answering. */
  readonly destroySocket?: boolean;
  /** Keep the request open forever (until the client leaves or the server closes). */
  readonly neverAnswer?: boolean;
}

export interface Received {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** Lower-case names, as node:http gives them. */
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The client's port: requests on one kept-alive connection share it. */
  readonly remotePort: number | undefined;
  /** Set when the client closed the connection before the answer was complete. */
  clientLeftEarly: boolean;
  /** Resolves when the client closes the connection before the answer is complete. */
  readonly clientLeft: Promise<void>;
}

export type Responder = Behaviour | ((request: Received) => Behaviour);

export interface CrmServer {
  /** e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly url: string;
  readonly received: Received[];
  /** How every following request is answered (until changed); requests before it are no longer "next". */
  respond(responder: Responder): void;
  /** Resolves with the first request since the last `respond` not yet handed out, waiting for it if need be. */
  nextRequest(): Promise<Received>;
  /** Closes kept-alive connections that carry no request (their idle timers go with them). */
  dropIdleConnections(): void;
  close(): Promise<void>;
}

export async function startCrmServer(initial: Responder = {}): Promise<CrmServer> {
  let responder: Responder = initial;
  const received: Received[] = [];
  let seen = 0;
  const waiters: Array<(r: Received) => void> = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let leave: () => void = () => {};
      const record: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: req.socket.remotePort,
        clientLeftEarly: false,
        clientLeft: new Promise((resolve) => (leave = resolve)),
      };
      res.on('close', () => {
        if (!res.writableFinished) {
          record.clientLeftEarly = true;
          leave();
        }
      });
      received.push(record);
      const waiter = waiters.shift();
      if (waiter !== undefined) {
        seen++;
        waiter(record);
      }
      const b = typeof responder === 'function' ? responder(record) : responder;
      const answer = (): void => {
        if (b.neverAnswer === true || res.destroyed) return;
        if (b.destroySocket === true) {
          req.socket.destroy();
          return;
        }
        const body = b.body ?? '';
        const headers: http.OutgoingHttpHeaders = { ...b.headers };
        if (b.contentType !== null) headers['content-type'] = b.contentType ?? 'text/plain';
        if (b.chunked === true) {
          res.writeHead(b.status ?? 200, headers);
          const buf = Buffer.from(body);
          for (let i = 0; i < buf.length; i += 8192) res.write(buf.subarray(i, i + 8192));
          res.end();
        } else {
          headers['content-length'] = Buffer.byteLength(body);
          res.writeHead(b.status ?? 200, headers);
          res.end(body);
        }
      };
      if (b.delayMs === undefined) answer();
      else setTimeout(answer, b.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    respond: (r) => {
      responder = r;
      seen = received.length;
    },
    nextRequest: () =>
      new Promise((resolve) => {
        const waiting = received[seen];
        if (waiting !== undefined) {
          seen++;
          resolve(waiting);
        } else waiters.push(resolve);
      }),
    dropIdleConnections: () => server.closeIdleConnections(),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The admin listener: Prometheus scrapes /metrics, a supervisor or load balancer asks /healthz (the
 * process answers) and /readyz (it should be sent calls). Plain node:http: three fixed GET routes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  readonly ready: boolean;
  /** Why not, or "ready": for the operator reading the JSON. */
  readonly reason: string;
}

export interface AdminServer {
  readonly address: AddressInfo;
  readonly close: () => Promise<void>;
}

export interface AdminDeps {
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  readonly onError: (error: unknown) => void;
}

const json = (status: number, body: unknown): { status: number; type: string; body: string } => ({
  status,
  type: 'application/json',
  body: `${JSON.stringify(body)}\n`,
});

export const listenAdmin = async (listen: { readonly host: string; readonly port: number }, deps: AdminDeps): Promise<AdminServer> => {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = async (): Promise<{ status: number; type: string; body: string }> => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'only GET' });
      switch (path) {
        case '/metrics':
          return { status: 200, type: deps.registry.contentType, body: await deps.registry.metrics() };
        case '/healthz':
          return json(200, { status: 'alive' });
        case '/readyz': {
          const readiness = deps.readiness();
          return json(readiness.ready ? 200 : 503, readiness);
        }
        default:
          return json(404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
      }
    };
    answer().then(
      (a) => {
        res.writeHead(a.status, { 'content-type': a.type, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : a.body);
      },
      (error: unknown) => {
        deps.onError(error);
        res.writeHead(500).end();
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      server.on('error', deps.onError);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};

import { createServer, type AddressInfo, type Server } from 'node:net';
import type { FrameReaderOptions } from './frame-reader.ts';
import { createSession, type EslSession } from './session.ts';

export interface OutboundServer {
  readonly address: () => AddressInfo;
  /** Sessions currently open: each is removed when its socket closes, however it closes. */
  readonly sessionCount: () => number;
  /** Stops accepting new connections; open sessions carry on. */
  readonly stopAccepting: () => void;
}

/**
 * The socket server FreeSWITCH's `socket` application dials, one connection per call.
 * `noDelay`: a command is a few small writes' worth of bytes and every one of them is on a caller's
 * post-dial delay; with Nagle on, modesl measured ~44 ms per round trip instead of ~2 ms.
 */
export const listenOutbound = (
  listen: { readonly host: string; readonly port: number },
  onSession: (session: EslSession) => void,
  frames: FrameReaderOptions,
  onError: (error: Error) => void,
): Promise<OutboundServer> => {
  const sessions = new Set<EslSession>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    const session = createSession(socket, frames);
    sessions.add(session);
    void session.closed.then(() => sessions.delete(session));
    onSession(session);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      // Once listening, an error here is a failed accept (EMFILE under load): worth a log line, and
      // unheard it would be thrown and take every call down with the process.
      server.on('error', onError);
      resolve({
        address: () => server.address() as AddressInfo,
        sessionCount: () => sessions.size,
        stopAccepting: () => {
          server.close();
        },
      });
    });
  });
};

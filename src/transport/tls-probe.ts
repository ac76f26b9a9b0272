import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { describeNetworkError } from './network-error.js';
import type { Timeouts } from './types.js';

/**
 * Whether the server at `url` answers a TLS ClientHello with something that is not TLS (a plain
 * HTTP server's `400`, or a closed connection), which is what a loopback registry's scheme hinges
 * on. The handshake trusts no CA and sends no request: it tells the two kinds of server apart
 * without loading Node's root certificates, some 40 ms of CPU that a plain-HTTP registry never
 * needs. Anything else (a TLS server, a refused connection) answers false, and the caller probes
 * as usual, with the origin's own TLS settings, so its errors are the usual ones.
 */
export function answersPlainHttp(url: URL, timeouts: Timeouts): Promise<boolean> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) ? {} : { servername: host }),
      ALPNProtocols: ['http/1.1'],
      ca: [],
      rejectUnauthorized: false,
    });
    const answer = (plain: boolean) => {
      socket.destroy();
      resolve(plain);
    };
    socket.setTimeout(timeouts.connectMs, () => answer(false));
    socket.once('secureConnect', () => answer(false));
    socket.once('error', (error) => {
      const { failure } = describeNetworkError(error, url, timeouts);
      answer(failure === 'not-tls' || failure === 'handshake-closed');
    });
  });
}

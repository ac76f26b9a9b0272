import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/**
 * Hands `release` the chunks of request bodies that `owned` accepts, once they have left for the
 * kernel. undici publishes the socket of each request it sends (`undici:client:sendHeaders`) and
 * each body chunk right after writing it (`undici:request:bodyChunkSent`). A socket whose write
 * buffer is empty (`writableLength`, checked then and on every `'drain'`) has handed every chunk
 * written to it to the kernel, or given up on them when it failed: nothing reads them again. A
 * chunk still queued on a socket that closes is never released.
 */
export function releaseOnceSent(
  owned: (body: unknown) => boolean,
  release: (chunks: Uint8Array[]) => void,
): void {
  const sockets = new WeakMap<object, Socket>();
  const unsent = new WeakMap<Socket, Uint8Array[]>();
  const releaseIfSent = (socket: Socket) => {
    const chunks = unsent.get(socket);
    if (chunks === undefined || chunks.length === 0 || socket.writableLength > 0) return;
    unsent.set(socket, []);
    release(chunks);
  };
  subscribe('undici:client:sendHeaders', (message) => {
    const { request, socket } = message as { request: { body?: unknown }; socket: Socket };
    if (!owned(request.body)) return;
    sockets.set(request, socket);
    if (unsent.has(socket)) return;
    unsent.set(socket, []);
    socket.on('drain', () => releaseIfSent(socket));
  });
  subscribe('undici:request:bodyChunkSent', (message) => {
    const { request, chunk } = message as { request: object; chunk: Uint8Array };
    const socket = sockets.get(request);
    if (socket === undefined) return;
    unsent.get(socket)?.push(chunk);
    releaseIfSent(socket);
  });
}

import { redactHeaders, redactUrl } from './redact.js';
import type { Send } from './types.js';

/** One line per request and per answer on the trace sink, every secret redacted. */
export function withTrace(send: Send, trace: (line: string) => void): Send {
  return async (request) => {
    const started = Date.now();
    const headers = JSON.stringify(redactHeaders(request.headers ?? {}));
    trace(`--> ${request.method} ${redactUrl(request.url)} ${headers}`);
    try {
      const response = await send(request);
      const answer = JSON.stringify(redactHeaders(response.headers));
      trace(
        `<-- ${response.status} ${request.method} ${redactUrl(request.url)} (${Date.now() - started} ms) ${answer}`,
      );
      return response;
    } catch (error) {
      trace(`<-- failed ${request.method} ${redactUrl(request.url)}: ${(error as Error).message}`);
      throw error;
    }
  };
}

import { monotonicMs } from './clock.js';
import { redactHeaders, redactUrl } from './redact.js';
import type { Send } from './types.js';

function headerText(headers: Record<string, string | string[] | undefined>): string {
  return JSON.stringify(redactHeaders(headers));
}

/** One line per request and one per answer on the trace sink, with headers, every secret redacted. */
export function withTrace(send: Send, trace: (line: string) => void): Send {
  return async (request) => {
    const started = monotonicMs();
    const target = `${request.method} ${redactUrl(request.url)}`;
    trace(`--> ${target} ${headerText(request.headers ?? {})}`);
    const elapsed = () => `${Math.round(monotonicMs() - started)} ms`;
    try {
      const response = await send(request);
      trace(`<-- ${response.status} ${target} (${elapsed()}) ${headerText(response.headers)}`);
      return response;
    } catch (error) {
      trace(`<-- failed ${target} (${elapsed()}): ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  };
}

import type { Readable } from 'node:stream';

/** The HTTP methods of the Distribution API. */
export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/**
 * A request body. Bytes and factories can be sent again (after a redirect, a retry or a new
 * token); a bare stream cannot, so a request carrying one is never retried.
 */
export type RequestBody =
  | Uint8Array
  | {
      kind: 'replayable';
      /** Opens the body from its start, for each attempt. */
      open: () => Readable;
      length?: number;
    }
  | { kind: 'stream'; stream: Readable; length?: number };

/** One request to a registry. */
export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  signal?: AbortSignal;
  /** Auth scopes this request needs, e.g. `repository:library/alpine:pull`. Read by the auth layer. */
  scopes?: readonly string[];
  /** Set by the redirect layer once a request left its first origin: no client identity may follow. */
  crossOrigin?: boolean;
}

/** The answer to a request. */
export interface HttpResponse {
  status: number;
  /** Lower-case header names; repeated headers joined as an array. */
  headers: Record<string, string | string[] | undefined>;
  /** The body stream; callers must consume or `dump()`/destroy it. */
  body: Readable;
  /** The URL that finally answered (after redirects). */
  url: URL;
  /** The slowest the body may arrive while it is read (see pacedChunks); absent: no floor. */
  pace?: BodyPace;
}

/** A body must bring `minBytesPerSecond` on average over every `windowMs` that tug waits for it. */
export interface BodyPace {
  windowMs: number;
  minBytesPerSecond: number;
}

/** One step of the HTTP stack. Layers wrap a `Send` and return a `Send`. */
export type Send = (request: HttpRequest) => Promise<HttpResponse>;

/** Waits `ms`; rejects early when `signal` is aborted. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** How failed requests are retried. */
export interface RetryPolicy {
  /** Total attempts including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Ceiling for a server's `Retry-After`; a longer wait fails fast with a "rate limited" error. */
  maxRetryAfterMs: number;
}

/** How long a request may wait. */
export interface Timeouts {
  connectMs: number;
  /** Time to the response headers. */
  headersMs: number;
  /**
   * Longest silence while a body streams; also the window over which a body must average
   * MIN_BODY_BYTES_PER_SECOND, so a body that trickles fails too.
   */
  bodyIdleMs: number;
}

/** How the transport reaches registries. */
export interface TransportOptions {
  /** Force plain HTTP for every registry. */
  plainHttp?: boolean;
  /** Skip TLS certificate verification (still HTTPS). */
  insecure?: boolean;
  /** Extra CA bundle (PEM) trusted for every registry. */
  caFile?: string;
  /** Client certificate and key (PEM) for mTLS. */
  certFile?: string;
  keyFile?: string;
  /**
   * A certs.d directory (`HOST[:PORT]/` holding `*.crt`, `NAME.cert` + `NAME.key`) read instead of
   * the defaults: `~/.config/containers/certs.d`, `/etc/docker/certs.d`, `/etc/containers/certs.d`.
   */
  certsDir?: string;
  /**
   * The file `NODE_EXTRA_CA_CERTS` names, for a process Node started without that variable (the
   * CLI's entry does, see `bin/tug`): its certificates are trusted wherever Node's default roots
   * would be, as Node would have done. A process Node started with it leaves this unset.
   */
  nodeExtraCaCerts?: string;
  /** Environment read for HTTP_PROXY / HTTPS_PROXY / NO_PROXY; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  userAgent?: string;
  retry?: Partial<RetryPolicy>;
  timeouts?: Partial<Timeouts>;
  /** Verbose HTTP trace sink (one line per call); secrets are redacted before it is called. */
  trace?: (line: string) => void;
  /** Sleep used by retry back-off; tests may shorten it. */
  sleep?: Sleep;
  /** Pacing shared with other transports of one run (rate limits, requests per second). */
  throttle?: {
    /** Waits until the request may be sent. */
    before(request: HttpRequest): Promise<void>;
    /** Learns from the answer (a rate limit's pause). */
    after(response: HttpResponse): void;
  };
}

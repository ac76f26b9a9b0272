#!/usr/bin/env node
// The CLI as one file (dist/cli/tug.cjs) so a command does not resolve and read ~100 modules
// before its first request, and a V8 code cache for it (see bin/tug). The library stays in dist/
// as tsc wrote it, importable without either.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const outdir = 'dist/cli';

await build({
  entryPoints: [`${outdir}/main.js`],
  outfile: `${outdir}/tug.cjs`,
  bundle: true,
  platform: 'node',
  // CommonJS, so bin/tug can compile it as a vm.Script with a code cache (Node 20 has no cache
  // for ES modules); dynamic imports of what stays outside become require().
  format: 'cjs',
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': 'bundleUrl' },
  // The bundle is the body of the function bin/tug calls with CommonJS's arguments: written so
  // here, the launcher compiles the file's text as it is, where wrapping it took a second copy.
  // The directive comes first: esbuild's own "use strict" follows the banner's statement, where
  // it is no directive, and the ES modules would otherwise run as sloppy code.
  banner: {
    js: "(function (exports, require, module, __filename, __dirname) {'use strict';const bundleUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  footer: { js: '})' },
  // bin/tug reads the file as latin1, which is exact for ASCII: other characters are escaped.
  charset: 'ascii',
  target: 'node20',
  // A native addon, and undici's full index (wanted only behind a proxy) stay in node_modules;
  // the undici modules imported by path are bundled.
  external: ['@napi-rs/keyring'],
  plugins: [
    {
      // undici's client loads its HTTP/2 module (and with it node:http2, ~6 ms) at start-up, but
      // calls it only for a connection that negotiated h2, which tug never offers (no allowH2).
      // The bundled module runs on its first call instead.
      name: 'lazy-undici-h2',
      setup(bundle) {
        bundle.onResolve({ filter: /^\.\/client-h2\.js$/ }, ({ importer, resolveDir }) =>
          importer.endsWith('/undici/lib/dispatcher/client.js')
            ? { path: 'client-h2', namespace: 'lazy-h2', pluginData: resolveDir }
            : undefined,
        );
        bundle.onLoad({ filter: /.*/, namespace: 'lazy-h2' }, ({ pluginData }) => ({
          contents: "module.exports = (...args) => require('./client-h2.js')(...args);",
          loader: 'js',
          resolveDir: pluginData,
        }));
      },
    },
    {
      // commander requires child_process (which loads dgram, IPC and more) for executable
      // subcommands, which tug has none of: it is loaded when a property is first read.
      name: 'lazy-child-process-for-commander',
      setup(bundle) {
        bundle.onResolve({ filter: /^(node:)?child_process$/ }, ({ importer }) =>
          importer.includes('/node_modules/commander/')
            ? { path: 'child_process', namespace: 'lazy' }
            : undefined,
        );
        bundle.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
          contents:
            "let loaded; module.exports = new Proxy({}, { get: (_, name) => (loaded ??= require('node:child_process'))[name] });",
          loader: 'js',
        }));
      },
    },
    {
      name: 'undici-index-external',
      setup(bundle) {
        bundle.onResolve({ filter: /^undici$/ }, ({ path }) => ({ path, external: true }));
      },
    },
  ],
  // Local names shortened too: a smaller file to read, digest and hold as a string at every start
  // (1.24 MB became 0.93 MB, its code cache 798 KB to 765 KB). Names of functions and classes stay,
  // for stack traces and for the errors that take their name from their class.
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// The code cache: bin/tug writes one into the user's cache directory when it finds none, after its
// command ran (so it holds the functions compiled on the way); run it once with a cache directory
// of its own and keep what it wrote. The same Node must run the CLI for V8 to accept it. The run
// is a copy from a registry into a layout, the path of `cp`, `pull` and `digest`: every function
// it compiles (transport, parser, verifier, layout writer) then starts compiled.
for (const name of readdirSync(outdir)) {
  if (name.endsWith('.cache')) rmSync(join(outdir, name));
}
const scratch = mkdtempSync(join(tmpdir(), 'tug-code-cache-'));
try {
  const registry = await trainingRegistry();
  try {
    await run(
      ['--no-progress', 'cp', `${registry.host}/training:v1`, `oci:${join(scratch, 'layout')}:v1`],
      scratch,
    );
  } finally {
    registry.close();
  }
  for (const name of readdirSync(join(scratch, 'tug'))) {
    copyFileSync(join(scratch, 'tug', name), join(outdir, name));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// Not execFileSync: the training registry answers from this process's event loop.
function run(args, cacheHome) {
  return promisify(execFile)(process.execPath, ['bin/tug', ...args], {
    env: { ...process.env, XDG_CACHE_HOME: cacheHome },
  });
}

/**
 * A read-only registry on loopback holding one small image, answering what a copy asks of a
 * plain-HTTP registry (distribution-spec: pull).
 */
async function trainingRegistry() {
  const blob = (bytes, mediaType) => ({
    mediaType,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.byteLength,
    bytes,
  });
  const layer = blob(randomBytes(256 * 1024), 'application/vnd.oci.image.layer.v1.tar+gzip');
  const config = blob(
    Buffer.from('{"architecture":"amd64","os":"linux"}'),
    'application/vnd.oci.image.config.v1+json',
  );
  const descriptor = ({ mediaType, digest, size }) => ({ mediaType, digest, size });
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: descriptor(config),
        layers: [descriptor(layer)],
      }),
    ),
    'application/vnd.oci.image.manifest.v1+json',
  );
  const contents = new Map([
    ['/v2/training/manifests/v1', manifest],
    [`/v2/training/manifests/${manifest.digest}`, manifest],
    [`/v2/training/blobs/${config.digest}`, config],
    [`/v2/training/blobs/${layer.digest}`, layer],
  ]);
  const server = createServer((request, response) => {
    const found =
      request.url === '/v2/' ? blob(Buffer.from('{}'), 'application/json') : contents.get(request.url);
    if (!found) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'content-type': found.mediaType,
      'content-length': found.size,
      'docker-content-digest': found.digest,
    });
    response.end(request.method === 'HEAD' ? undefined : found.bytes);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${server.address().port}`, close: () => server.close() };
}

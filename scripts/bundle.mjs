#!/usr/bin/env node
// The CLI as one file (dist/cli/tug.mjs) so a command does not resolve and read ~100 modules
// before its first request. The library stays in dist/ as tsc wrote it, importable without this.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/tug.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // A native addon, and undici's full index (wanted only behind a proxy) stay in node_modules;
  // the undici modules imported by path are bundled.
  external: ['@napi-rs/keyring'],
  plugins: [
    {
      name: 'undici-index-external',
      setup(bundle) {
        bundle.onResolve({ filter: /^undici$/ }, ({ path }) => ({ path, external: true }));
      },
    },
  ],
  // undici is CommonJS: its require() of node: modules needs a real require in an ES module.
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
  },
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});

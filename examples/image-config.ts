// Prints the configuration of an image: its platform, entrypoint and environment.
// usage: node image-config.js REFERENCE [PLATFORM]
import { Client, isTugError } from 'tug';

const [reference, platform = 'linux/amd64'] = process.argv.slice(2);
if (!reference) throw new Error('usage: image-config REFERENCE [PLATFORM]');

await using client = new Client();
try {
  const { manifest } = await client.manifest(reference, { platform });
  if (!('config' in manifest)) throw new Error(`${reference} is not an image`);
  const config = JSON.parse(Buffer.from(await client.blob(reference, manifest.config)).toString('utf8'));
  console.log(JSON.stringify({ os: config.os, architecture: config.architecture, config: config.config }));
} catch (error) {
  if (!isTugError(error, 'NOT_FOUND')) throw error;
  console.error(`not found: ${error.message}`);
  process.exitCode = 4;
}

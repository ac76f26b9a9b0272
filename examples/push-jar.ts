// Pushes a JAR as an OCI artifact; `oras pull` or `tug pull` gives the file back.
// usage: node push-jar.js FILE.jar REFERENCE
import { basename } from 'node:path';
import { Client } from 'tug';

const [jar, reference] = process.argv.slice(2);
if (!jar || !reference) throw new Error('usage: push-jar FILE.jar REFERENCE');

await using client = new Client();
const { digest } = await client.push(
  reference,
  [{ path: jar, title: basename(jar), mediaType: 'application/java-archive' }],
  {
    artifactType: 'application/vnd.example.jar.v1',
    annotations: { 'org.opencontainers.image.created': new Date().toISOString() },
  },
);
console.log(digest);

// Copies every tag of a repository to another repository, one image at a time.
// usage: node mirror-tags.js SOURCE_REPOSITORY DESTINATION_REPOSITORY
import { Client } from 'tug';

const [source, destination] = process.argv.slice(2);
if (!source || !destination) throw new Error('usage: mirror-tags SOURCE_REPOSITORY DESTINATION_REPOSITORY');

await using client = new Client();
for await (const tag of client.tags(source)) {
  const { digest } = await client.copy(`${source}:${tag}`, `${destination}:${tag}`);
  console.log(`${tag} ${digest}`);
}

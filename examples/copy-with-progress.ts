// Copies an image (or index, or artifact) and draws a progress bar on stderr.
// usage: node copy-with-progress.js SOURCE DESTINATION
import { Client } from 'tug';

const [source, destination] = process.argv.slice(2);
if (!source || !destination) throw new Error('usage: copy-with-progress SOURCE DESTINATION');

const sizes = new Map<string, number>();
let total = 0;
let moved = 0;
const draw = () => {
  const share = total === 0 ? 0 : Math.min(moved / total, 1);
  const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.');
  process.stderr.write(`\r[${bar}] ${Math.round(share * 100)}% of ${total} bytes`);
};

await using client = new Client();
const result = await client.copy(source, destination, {
  onProgress: (event) => {
    if (event.event === 'started') {
      sizes.set(event.digest, event.size);
      total += event.size;
    } else if (event.event === 'bytes') {
      moved += event.bytes;
    } else if (event.event !== 'copied') {
      moved += sizes.get(event.digest) ?? 0; // skipped or mounted: nothing to move
    }
    draw();
  },
});
process.stderr.write('\n');
console.log(`${result.digest} ${result.copied} copied, ${result.skipped} skipped, ${result.bytes} bytes`);

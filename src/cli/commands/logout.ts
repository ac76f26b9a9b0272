import { eraseCredential } from '../../auth/index.js';
import { parseRegistryHost } from '../../ref/index.js';
import type { CliContext } from '../context.js';

export async function run(context: CliContext, [input = 'docker.io']: string[]): Promise<void> {
  const registry = parseRegistryHost(input);
  const removed = await eraseCredential(registry, context.credentialOptions());
  context.output.info(removed ? `Removed credentials for ${registry}` : `Not logged in to ${registry}`);
}

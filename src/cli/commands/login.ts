import type { OptionValues } from 'commander';
import type { Credential } from '../../auth/index.js';
import { storeCredential } from '../../auth/index.js';
import { UsageError } from '../../errors.js';
import { parseRegistryHost } from '../../ref/index.js';
import { RegistryClient } from '../../registry/client.js';
import type { CliContext } from '../context.js';
import { isTty } from '../io.js';
import { prompt } from '../prompt.js';

async function askForCredential(context: CliContext): Promise<Credential> {
  const interactive = (context.io.stdin as { isTTY?: boolean }).isTTY === true && isTty(context.io.stderr);
  if (!interactive) {
    throw new UsageError('login needs a username and a password', {
      hint: 'tug login REGISTRY -u USER --password-stdin < password-file',
    });
  }
  const username = context.options.username ?? (await prompt(context.io, 'Username: '));
  const password = await prompt(context.io, 'Password: ', true);
  return { username, password };
}

/** `--identity-token` / `--identity-token-stdin`: an OAuth2 refresh token, stored as docker's `identitytoken`. */
async function identityTokenCredential(
  context: CliContext,
  options: OptionValues,
): Promise<Credential | undefined> {
  const given = options.identityToken as string | undefined;
  if (given !== undefined && options.identityTokenStdin) {
    throw new UsageError('--identity-token and --identity-token-stdin cannot be used together');
  }
  const token = options.identityTokenStdin
    ? Buffer.from(await context.readInputFile('-'))
        .toString('utf8')
        .replace(/\r?\n$/, '')
    : given;
  if (token === undefined) return undefined;
  if (token === '') throw new UsageError('the identity token is empty');
  const { password, passwordStdin, username } = context.options;
  if (password !== undefined || passwordStdin) {
    throw new UsageError('an identity token replaces the password: give one or the other');
  }
  return { ...(username ? { username } : {}), identityToken: token };
}

export async function run(
  context: CliContext,
  [input = 'docker.io']: string[],
  options: OptionValues,
): Promise<void> {
  const registry = parseRegistryHost(input);
  const credential =
    (await identityTokenCredential(context, options)) ??
    (await context.flagCredential()) ??
    (await askForCredential(context));
  // Only the credential being tested, never one already stored, takes part in the check.
  const client = new RegistryClient({
    transport: await context.transport(),
    credentials: async () => credential,
    headers: await context.requestHeaders(),
  });
  const { identityToken } = await client.verifyCredentials(registry, { signal: context.signal });
  // As docker does, an identity token from the registry's OAuth2 service is kept instead of the password.
  const toStore = identityToken ? { username: credential.username, identityToken } : credential;
  const stored = await storeCredential(registry, toStore, context.credentialOptions());
  if (stored.warning) context.output.warn(stored.warning);
  context.output.info(`Login succeeded for ${registry} (credentials stored in ${stored.location})`);
}

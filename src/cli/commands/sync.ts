import { readFile } from 'node:fs/promises';
import type { OptionValues } from 'commander';
import { TugError, UsageError } from '../../errors.js';
import type { RepositoryName } from '../../ref/types.js';
import type { SignalOptions } from '../../signal.js';
import {
  parseSyncConfig,
  type RegistrySettings,
  type SyncConfig,
  type SyncDestination,
} from '../../sync/config.js';
import { parseShard } from '../../sync/plan.js';
import { runSync, type SyncEnvironment, type SyncImageReport, type SyncReport } from '../../sync/run.js';
import { Throttle } from '../../transport/throttle.js';
import type { RegistryAccess } from '../access.js';
import type { CliContext } from '../context.js';
import { registryKey } from '../sides.js';

function credentialOf(settings: RegistrySettings, env: NodeJS.ProcessEnv, host: string) {
  if (settings.usernameEnv === undefined || settings.passwordEnv === undefined) return {};
  const username = env[settings.usernameEnv];
  const password = env[settings.passwordEnv];
  if (username === undefined || password === undefined) {
    throw new UsageError(
      `the credential for ${host} is read from $${settings.usernameEnv} and $${settings.passwordEnv}, and one is not set`,
    );
  }
  return { username, password };
}

/** One access per registry the file configures (its TLS settings and credential go there only), one for the rest. */
function accesses(context: CliContext, config: SyncConfig): (registry: string) => RegistryAccess {
  const settingsByKey = new Map(
    [...config.registries].map(([host, settings]) => [registryKey(host), settings]),
  );
  const throttle = new Throttle({
    requestsPerSecond: (host) => settingsByKey.get(registryKey(host))?.requestsPerSecond,
    maxWaitMs: config.maxRateLimitWait * 1000,
  });
  const extra = {
    throttle,
    retry: { maxRetryAfterMs: config.maxRateLimitWait * 1000, attempts: context.options.retries ?? 6 },
  };
  const { plainHttp, insecure, caFile, certFile, keyFile } = context.options;
  const global = { plainHttp, insecure, caFile, certFile, keyFile };
  const fallback = context.ownAccess({ ...global, flagPrefix: '--' }, extra);
  const own = new Map<string, RegistryAccess>();
  for (const [host, settings] of config.registries) {
    const { usernameEnv: _user, passwordEnv: _password, requestsPerSecond: _rate, ...tls } = settings;
    const access = context.ownAccess(
      {
        ...global,
        ...tls,
        ...credentialOf(settings, context.io.env, host),
        registries: [host],
        flagPrefix: `registries.${host}.`,
      },
      extra,
    );
    own.set(registryKey(host), access);
  }
  return (registry) => own.get(registryKey(registry)) ?? fallback;
}

function environment(context: CliContext, config: SyncConfig): SyncEnvironment {
  const accessFor = accesses(context, config);
  const repository = async (name: RepositoryName) => {
    const { RegistryTarget } = await import('../../targets/registry.js');
    return new RegistryTarget((await accessFor(name.registry).registry()).repository(name));
  };
  return {
    openSource: repository,
    openDestination: async (destination: SyncDestination) => {
      if (destination.kind === 'registry') return repository(destination);
      const { openOciLayout } = await import('../../targets/oci-layout.js');
      return openOciLayout(destination.path, { create: true });
    },
    catalog: async function* (registry: string, options?: SignalOptions) {
      yield* (await accessFor(registry).registry()).catalog(registry, options);
    },
  };
}

function line(report: SyncImageReport): string {
  const target = report.target ? ` -> ${report.target}` : '';
  const tags = report.digestTags?.length ? ` (+ ${report.digestTags.join(', ')})` : '';
  return `${report.action.padEnd(8)} ${report.source}${target}: ${report.reason}${tags}`;
}

function summary(report: SyncReport): string {
  const { copied, skipped, refreshed, conflicts, failed } = report.summary;
  const verb = report.dryRun ? 'to copy' : 'copied';
  const behind = refreshed > 0 ? ` (${refreshed} with newer digest tags)` : '';
  return `${copied} ${verb}, ${skipped} skipped${behind}, ${conflicts} conflicts, ${failed} failed`;
}

export async function run(context: CliContext, [file = '']: string[], options: OptionValues): Promise<void> {
  const { username, password, passwordStdin } = context.options;
  if (username !== undefined || password !== undefined || passwordStdin) {
    throw new UsageError('sync takes no -u/-p/--password-stdin: it reaches many registries', {
      hint: 'store credentials with tug login, or name environment variables per registry (usernameEnv, passwordEnv)',
    });
  }
  const config = parseSyncConfig(
    await readFile(file, 'utf8').catch((error: unknown) => {
      throw new UsageError(`cannot read sync file ${file}: ${(error as Error).message}`);
    }),
    file,
  );
  if (context.options.concurrency !== undefined) config.concurrency = context.options.concurrency;
  const shard = typeof options.shard === 'string' ? parseShard(options.shard) : undefined;
  const json = context.output.options.json;
  const report = await runSync(config, environment(context, config), {
    dryRun: options.dryRun === true,
    shard,
    signal: context.signal,
    onImage: json ? undefined : (image) => context.output.line(line(image)),
  });
  if (json) context.output.json(report);
  else context.output.info(summary(report));
  if (report.summary.failed > 0) {
    throw new TugError(`${report.summary.failed} of ${report.images.length} images failed`, {
      hint: 'the lines marked failed say why; run the same sync again to retry only what is left',
    });
  }
}

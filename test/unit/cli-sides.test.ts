import { describe, expect, it } from 'vitest';
import { RegistryAccess } from '../../src/cli/access.js';
import { type AccessOptions, planSides, type SideFlags } from '../../src/cli/sides.js';
import { UsageError } from '../../src/errors.js';

const plan = (options: AccessOptions & SideFlags, from: string[], to: string[]) =>
  planSides(options, { from, to });

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a usage error');
}

describe('planSides', () => {
  it('refuses -u/-p for two registries and names the --from-/--to- flags', () => {
    const error = usageError(() =>
      plan({ username: 'u', password: 'p' }, ['hostile.example.com'], ['trusted.example.com']),
    );
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('hostile.example.com');
    expect(error.message).toContain('trusted.example.com');
    expect(error.hint).toContain('--from-username');
    expect(error.hint).toContain('--to-username');
  });

  it('refuses --password-stdin alone for two registries', () => {
    expect(() => plan({ passwordStdin: true }, ['a.example'], ['b.example'])).toThrow(UsageError);
  });

  it('refuses a client certificate for two registries: it is a credential too', () => {
    const error = usageError(() =>
      plan({ certFile: 'c.pem', keyFile: 'k.pem' }, ['a.example'], ['b.example']),
    );
    expect(error.hint).toContain('--from-cert-file');
  });

  it.each([
    [['LOCALHOST:5000'], ['localhost:5000']],
    [['127.1:5000'], ['127.0.0.1:5000']],
    [['docker.io'], ['docker.io']],
  ])('lets -u/-p serve %s and %s: one registry', (from, to) => {
    const sides = plan({ username: 'u', password: 'p' }, from, to);
    expect(sides.from.username).toBe('u');
    expect(sides.to.username).toBe('u');
  });

  it('lets -u/-p serve the one registry of a copy to a layout', () => {
    const sides = plan({ username: 'u', password: 'p' }, ['a.example'], []);
    expect(sides.from).toMatchObject({ username: 'u', password: 'p', registries: ['a.example'] });
  });

  it('gives each side only its own credential and TLS settings', () => {
    const sides = plan(
      {
        fromUsername: 'alice',
        fromPassword: 'a',
        fromInsecure: true,
        toUsername: 'bob',
        toPasswordStdin: true,
        toCaFile: 'ca.pem',
        toPlainHttp: true,
      },
      ['a.example'],
      ['b.example'],
    );
    expect(sides.from).toEqual({
      username: 'alice',
      password: 'a',
      insecure: true,
      registries: ['a.example'],
      flagPrefix: '--from-',
    });
    expect(sides.to).toEqual({
      username: 'bob',
      passwordStdin: true,
      caFile: 'ca.pem',
      plainHttp: true,
      registries: ['b.example'],
      flagPrefix: '--to-',
    });
  });

  it('applies --plain-http, --insecure and --ca-file to both sides unless a side overrides', () => {
    const sides = plan(
      { insecure: true, caFile: 'all.pem', fromCaFile: 'src.pem' },
      ['a.example'],
      ['b.example'],
    );
    expect(sides.from).toMatchObject({ insecure: true, caFile: 'src.pem' });
    expect(sides.to).toMatchObject({ insecure: true, caFile: 'all.pem' });
  });

  it('refuses both sides reading a password from standard input', () => {
    expect(() =>
      plan(
        { fromUsername: 'a', fromPasswordStdin: true, toUsername: 'b', toPasswordStdin: true },
        ['a.example'],
        ['b.example'],
      ),
    ).toThrow(/standard input/);
  });

  it('refuses -u together with --from-username', () => {
    expect(() => plan({ username: 'u', fromUsername: 'a' }, ['a.example'], ['a.example'])).toThrow(
      UsageError,
    );
  });

  it('refuses a side credential for a side that is not a registry', () => {
    expect(() => plan({ toUsername: 'b', toPassword: 'p' }, ['a.example'], [])).toThrow(
      /destination is not a registry/,
    );
  });

  it('refuses a side credential for a side that spans two registries', () => {
    expect(() =>
      plan({ fromUsername: 'a', fromPassword: 'p' }, ['a.example', 'b.example'], ['c.example']),
    ).toThrow(/a\.example and b\.example/);
  });

  it('gives both sides the same settings when no side is named', () => {
    const sides = plan({}, ['a.example'], ['b.example']);
    expect(sides.from).toEqual({ flagPrefix: '--' });
    expect(sides.to).toEqual({ flagPrefix: '--' });
  });
});

describe('RegistryAccess', () => {
  const stored = { username: 'from-docker-config', password: 'stored' };
  const access = (registries: string[] | undefined, passwordStdin = false) =>
    new RegistryAccess(
      {
        username: 'alice',
        ...(passwordStdin ? { passwordStdin } : { password: 'a' }),
        registries,
        flagPrefix: '--from-',
      },
      {
        transportDefaults: () => ({}),
        storedCredentials: async () => async () => stored,
        stdinSecret: async () => 'from-stdin',
        requestHeaders: async () => ({}),
      },
    );

  it('gives the command-line credential only to the registries it was given for', async () => {
    const lookup = await access(['a.example:5000']).credentials();
    expect(await lookup('a.example:5000')).toEqual({ username: 'alice', password: 'a' });
    expect(await lookup('A.EXAMPLE:5000')).toEqual({ username: 'alice', password: 'a' });
    expect(await lookup('b.example')).toBe(stored);
    expect(await lookup('a.example:5001')).toBe(stored);
  });

  it('gives it to every registry of a one-registry command', async () => {
    const lookup = await access(undefined).credentials();
    expect(await lookup('b.example')).toEqual({ username: 'alice', password: 'a' });
  });

  it('reads the password from standard input through the shared reader', async () => {
    expect(await access(['a.example'], true).flagCredential()).toEqual({
      username: 'alice',
      password: 'from-stdin',
    });
  });

  it("names the side's flags when the password is missing", async () => {
    const lonely = new RegistryAccess(
      { username: 'alice', flagPrefix: '--to-' },
      {
        transportDefaults: () => ({}),
        storedCredentials: async () => async () => undefined,
        stdinSecret: async () => '',
        requestHeaders: async () => ({}),
      },
    );
    await expect(lonely.flagCredential()).rejects.toThrow(/--to-username and a password \(--to-password/);
  });
});

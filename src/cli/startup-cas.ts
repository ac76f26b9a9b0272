/**
 * Set by `bin/tug` when it started Node without `NODE_EXTRA_CA_CERTS`, to the file that variable
 * named: Node would have parsed those certificates, with its whole root store, before the first
 * line of any command (50-70 ms), where only a TLS connection needs them.
 */
const HANDED_OVER = 'TUG_NODE_EXTRA_CA_CERTS';

/**
 * The file of CA certificates Node was started without, for the transport to trust beside
 * Node's roots (`TransportOptions.nodeExtraCaCerts`); undefined when Node read them itself.
 * `NODE_EXTRA_CA_CERTS` is given back to `env`, so what tug runs (a credential helper) has it.
 */
export function takeStartupCaCerts(env: NodeJS.ProcessEnv): string | undefined {
  const file = env[HANDED_OVER];
  if (file === undefined) return undefined;
  delete env[HANDED_OVER];
  env.NODE_EXTRA_CA_CERTS = file;
  return file;
}

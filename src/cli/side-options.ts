import { type Command, Option } from 'commander';

/** The two registries of a command that reads from one and writes to another. */
export type SideName = 'from' | 'to';

/** How tug reaches a registry: TLS settings and what proves who the user is. */
export interface AccessOptions {
  plainHttp?: boolean;
  insecure?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

export type AccessKey = keyof AccessOptions;
type Capitalised<K extends string> = K extends `${infer First}${infer Rest}`
  ? `${Uppercase<First>}${Rest}`
  : K;

/** `--from-username`, `--to-ca-file`...: the access options of one side, as commander names them. */
export type SideFlags = { [K in AccessKey as `${SideName}${Capitalised<K>}`]?: AccessOptions[K] };

export const sideNames: readonly SideName[] = ['from', 'to'];
export const sideWords: Record<SideName, string> = { from: 'source', to: 'destination' };

/** Each access option's flag (after `--from-`/`--to-`) and help text. */
const flagSpecs: ReadonlyArray<readonly [string, (side: string) => string]> = [
  ['username <user>', (side) => `${side} registry username`],
  ['password <password>', (side) => `${side} registry password or token`],
  ['password-stdin', (side) => `read the ${side} registry password from standard input`],
  ['plain-http', (side) => `use HTTP instead of HTTPS for the ${side}`],
  ['insecure', (side) => `skip TLS certificate verification for the ${side}`],
  ['ca-file <file>', (side) => `trust the CA certificates in this PEM file for the ${side}`],
  ['cert-file <file>', (side) => `client certificate (PEM) for mutual TLS with the ${side}`],
  ['key-file <file>', (side) => `client key (PEM) for mutual TLS with the ${side}`],
];

/** The --from-/--to- options of a command that reads from one registry and writes to another. */
export function addSideOptions(command: Command): Command {
  for (const side of sideNames) {
    for (const [flag, description] of flagSpecs) {
      command.addOption(
        new Option(`--${side}-${flag}`, description(sideWords[side])).helpGroup(
          `${sideWords[side][0]?.toUpperCase()}${sideWords[side].slice(1)} registry options:`,
        ),
      );
    }
  }
  return command;
}

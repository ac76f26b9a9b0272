/** What a credential source can hold for one registry. */
export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`), exchanged with `grant_type=refresh_token`. */
  identityToken?: string;
}

/** Looks up the credential for a registry host (`docker.io`, `localhost:5000`). */
export type CredentialLookup = (registry: string) => Promise<Credential | undefined>;

export interface BasicChallenge {
  scheme: 'basic';
  realm?: string;
}

export interface BearerChallenge {
  scheme: 'bearer';
  realm: string;
  service?: string;
  /** Scopes named by the challenge (space-separated in the header). */
  scopes: string[];
  /** `invalid_token`, `insufficient_scope`, ... */
  error?: string;
}

export type Challenge = BasicChallenge | BearerChallenge;

/** Where `login` stored a credential. */
export type CredentialStoreKind = 'helper' | 'keychain' | 'file';

import type { Send } from '../transport/types.js';

/** What a repository handle needs of its registry: the authenticated stack and where it lives. */
export interface RegistryConnection {
  send: Send;
  baseUrl: URL;
}

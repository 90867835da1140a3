import { hash } from 'node:crypto';
import { BoundedMap } from '../common/bounded-map';
import type { KeyVersion, ResolvedTokenConfig } from './token-config.store';

/** A configuration a token may belong to, and which of its live key versions may have signed it. */
export interface Candidate {
  resolved: ResolvedTokenConfig;
  versions: readonly KeyVersion[];
}

/** What a verification found: the claims are frozen, since every later hit shares them. */
export interface VerifiedEntry {
  /** The configuration, as resolved, whose key checked the signature. */
  resolved: ResolvedTokenConfig;
  /** The key version that did. */
  version: KeyVersion;
  claims: Readonly<Record<string, unknown>>;
  username: string;
}

const MAX_ENTRIES = 4096;
/** Longer tokens are verified every time: an entry's size stays bounded. */
const MAX_TOKEN_LENGTH = 4096;

/** `value` frozen, and every object and array under it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Tokens whose signature and claims were checked lately, so that a browser presenting the same
 * token on every request pays for the HMAC and the JSON parsing once (Envoy's JWT filter keeps such
 * a cache too). Entries are found by the token's SHA-256, so no token is kept, and a hit counts
 * only for the very configuration object that verified it, and only while the key version that did
 * is still a candidate (live): a configuration changed, disabled or deleted since resolves to
 * another object (or to none), a retired key is no candidate, and the token is verified again. What
 * depends on the time (expiry, revocations) is still checked on every use, by the caller.
 * Up to 4096 entries; the oldest goes first. TokenModule provides one to its TokenVerifier.
 */
export class VerifiedTokenCache {
  private readonly entries: BoundedMap<string, VerifiedEntry>;

  constructor(maxEntries = MAX_ENTRIES) {
    this.entries = new BoundedMap(maxEntries);
  }

  /** The key of `token`, or undefined for a token too long to keep. */
  keyOf(token: string): string | undefined {
    return token.length > MAX_TOKEN_LENGTH ? undefined : hash('sha256', token, 'base64');
  }

  /** The entry of `key` if one of `candidates` verified it, with a version still among them. */
  find(key: string | undefined, candidates: readonly Candidate[]): VerifiedEntry | undefined {
    const entry = key === undefined ? undefined : this.entries.get(key);
    if (!entry) return undefined;
    const found = candidates.some(
      ({ resolved, versions }) =>
        resolved === entry.resolved && versions.includes(entry.version),
    );
    return found ? entry : undefined;
  }

  remember(key: string | undefined, entry: VerifiedEntry): void {
    if (key === undefined) return;
    this.entries.set(key, { ...entry, claims: deepFreeze(entry.claims) });
  }

  forget(key: string | undefined): void {
    if (key !== undefined) this.entries.delete(key);
  }
}

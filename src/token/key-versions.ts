import type { KeyVersion, ResolvedTokenConfig } from './token-config.store';

/** The versions of a configuration that verify tokens at `now` (epoch ms): newest first. */
export function liveVersions(resolved: ResolvedTokenConfig, now: number): KeyVersion[] {
  return resolved.versions.filter((version) => isLive(version, now));
}

export function isLive(version: KeyVersion, now: number): boolean {
  return version.retires === undefined || version.retires > now;
}

/**
 * The version that signs at `now`: the newest live one whose time to sign has come. A service-held
 * key waits until consumers that cached the JWKS have seen it; its predecessor signs meanwhile.
 * Should none have come yet, the one published longest, never the newest.
 */
export function signingVersion(resolved: ResolvedTokenConfig, now: number): KeyVersion {
  const live = liveVersions(resolved, now);
  const due = live.find((version) => version.signsFrom <= now);
  if (due) return due;
  return [...live, resolved.versions[0]].reduce((first, version) =>
    version.signsFrom < first.signsFrom ? version : first,
  );
}

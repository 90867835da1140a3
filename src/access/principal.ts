/** What the access rules read from the authenticated caller: who it is and which user type it has. */
export interface Principal {
  username: string;
  usertype: string;
  /** How the caller signed in; `'token'` marks a session opened with an SSO token (never an admin). */
  via?: string;
}

/** Reads the principal from `request.user`; `TUser` is what the host's authentication puts there. */
export type PrincipalReader<TUser = unknown> = (user: TUser) => Principal | undefined;

/** The default reader: `user.username`, `user.usertype` and `user.via`. */
export function defaultPrincipal(user: unknown): Principal | undefined {
  const candidate = user as Partial<Principal> | null | undefined;
  if (typeof candidate?.username !== 'string' || typeof candidate.usertype !== 'string')
    return undefined;
  return { username: candidate.username, usertype: candidate.usertype, via: candidate.via };
}

import type { UserEntity } from '../../users/entities/user.entity';

/** What the standalone service puts on `request.user`. */
export interface AuthenticatedUser {
  userid: string;
  username: string;
  usertype: string;
  roles: string[];
  /** How the caller signed in: HTTP Basic, the session cookie, or (single sign-on) a token. */
  via: 'basic' | 'session' | 'token';
}

export function authenticatedUser(
  user: UserEntity,
  via: AuthenticatedUser['via'],
): AuthenticatedUser {
  return {
    userid: user.id,
    username: user.username,
    usertype: user.usertype,
    roles: user.roles,
    via,
  };
}

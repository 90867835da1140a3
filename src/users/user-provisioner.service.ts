import { Injectable } from '@nestjs/common';
import { UserEntity } from './entities/user.entity';
import { PasswordHasher } from './password-hasher.service';
import { Profile, UsersService } from './users.service';
import { ADMINISTRATOR, canonicalUserType, UserType } from './user-types';

export type Provisioned =
  | { status: 'existing'; user: UserEntity }
  | { status: 'created'; user: UserEntity }
  | { status: 'disabled'; user: UserEntity }
  | { status: 'unknown' }
  /** The new user would be an Administrator: never made here, whatever a stored configuration says. */
  | { status: 'refused' };

export interface ProvisionRequest {
  username: string;
  /** Create the user when absent (the configuration's `inituser`). */
  create: boolean;
  profile: Profile;
  usertype: UserType;
  roles: string[];
  /** The new user's password, hashed only if the user is created now. */
  password?: string;
  /** Otherwise this hash (the configuration's `initpwd`), or none: token sign-in only. */
  passwordHash: string | null;
}

/**
 * Finds the user a token names, creating it on first use when allowed. The one provisioner both
 * callers share: minting (which answers 404/409) and token sign-in (which answers 401).
 * Existing users are never changed here, and an Administrator is never created here: only the
 * user API makes one.
 */
@Injectable()
export class UserProvisioner {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
  ) {}

  async provision(request: ProvisionRequest): Promise<Provisioned> {
    const existing = await this.users.findByUsername(request.username);
    if (existing) return { status: existing.enabled ? 'existing' : 'disabled', user: existing };
    // A configuration saved before `update` refused Administrator in initroles may still name it.
    if (
      [request.usertype, ...request.roles].some((role) => canonicalUserType(role) === ADMINISTRATOR)
    )
      return { status: 'refused' };
    if (!request.create) return { status: 'unknown' };
    const passwordHash = request.password
      ? await this.hasher.hash(request.password)
      : request.passwordHash;
    const created = await this.users.create({ ...request, passwordHash });
    if (created) return { status: 'created', user: created };
    // Created by a concurrent request in between: answer that one.
    return this.provision({ ...request, create: false });
  }
}

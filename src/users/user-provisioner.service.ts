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

/** What a user created by the provisioner gets. */
export interface NewUserDetails {
  profile: Profile;
  usertype: UserType;
  roles: string[];
  /** The new user's password, hashed only if the user is created now. */
  password?: string;
  /** Otherwise this hash (the configuration's `initpwd`), or none: token sign-in only. */
  passwordHash: string | null;
}

export interface ProvisionRequest {
  username: string;
  /** Create the user when absent (the configuration's `inituser`). */
  create: boolean;
  /** The details of the user to create: worked out only when the user does not exist. */
  newUser(): NewUserDetails;
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
    const details = request.newUser();
    // A configuration saved before `update` refused Administrator in initroles may still name it.
    if (
      [details.usertype, ...details.roles].some((role) => canonicalUserType(role) === ADMINISTRATOR)
    )
      return { status: 'refused' };
    if (!request.create) return { status: 'unknown' };
    const passwordHash = details.password
      ? await this.hasher.hash(details.password)
      : details.passwordHash;
    const created = await this.users.create({
      username: request.username,
      profile: details.profile,
      usertype: details.usertype,
      roles: details.roles,
      passwordHash,
    });
    if (created) return { status: 'created', user: created };
    // Created by a concurrent request in between: answer that one.
    return this.provision({ ...request, create: false });
  }
}

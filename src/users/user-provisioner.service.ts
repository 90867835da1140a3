import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { UserEntity } from './entities/user.entity';
import { PasswordHasher } from './password-hasher.service';
import { Profile, UsersService } from './users.service';
import { UserType } from './user-types';

const KNOWN_TTL_MS = 5000;
const MAX_KNOWN = 10000;

export type Provisioned =
  | { status: 'existing'; user: UserEntity }
  | { status: 'created'; user: UserEntity }
  | { status: 'disabled'; user: UserEntity }
  | { status: 'unknown' };

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
 * Existing users are never changed here.
 */
@Injectable()
export class UserProvisioner implements OnModuleDestroy {
  /** Users found recently: every mint and token sign-in asks, and the answer rarely changes. */
  private readonly known = new Map<string, { user: UserEntity; until: number }>();
  private readonly subscription: Subscription;

  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
  ) {
    this.subscription = users.credentialChanges.subscribe((username) =>
      this.known.delete(username),
    );
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }

  async provision(request: ProvisionRequest): Promise<Provisioned> {
    const existing = await this.find(request.username);
    if (existing) return { status: existing.enabled ? 'existing' : 'disabled', user: existing };
    if (!request.create) return { status: 'unknown' };
    const passwordHash = request.password
      ? await this.hasher.hash(request.password)
      : request.passwordHash;
    const created = await this.users.create({ ...request, passwordHash });
    if (created) return { status: 'created', user: created };
    // Created by a concurrent request in between: answer that one.
    return this.provision({ ...request, create: false });
  }

  /**
   * The user, from the store or seen within KNOWN_TTL_MS. Changes made through this instance drop
   * the entry at once; another instance's changes show within that time.
   */
  private async find(username: string): Promise<UserEntity | null> {
    const now = Date.now();
    const known = this.known.get(username);
    if (known && known.until > now) return known.user;
    const user = await this.users.findByUsername(username);
    if (user) {
      if (this.known.size >= MAX_KNOWN) this.known.delete(this.known.keys().next().value as string);
      this.known.set(username, { user, until: now + KNOWN_TTL_MS });
    } else {
      this.known.delete(username);
    }
    return user;
  }
}

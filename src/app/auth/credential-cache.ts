import { hash, randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { type ChangeBus, CHANGE_BUS } from '../../changes/change-bus';
import { BoundedMap } from '../../common/bounded-map';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { UsersService } from '../../users/users.service';
import { AuthenticatedUser } from './authenticated-user';

const MAX_ENTRIES = 10000;

/**
 * Remembers recently verified Basic credentials so that a request does not pay a password hash.
 * Keyed by a fingerprint of the credential, never the plaintext: SHA-256 over a per-process random
 * key and the credential, in one call (an HMAC object's set-up cost more than the rest of the
 * lookup; the fingerprint never leaves the process, so length extension has nothing to extend).
 * An entry lives AUTH_CACHE_TTL seconds and goes at once when its user's password, type or flag
 * changes, here or on another instance (UsersService hears those); all go when announcements may
 * have been missed.
 */
@Injectable()
export class CredentialCache implements OnModuleDestroy {
  private readonly key = randomBytes(32).toString('base64url');
  private readonly entries = new BoundedMap<string, { user: AuthenticatedUser; until: number }>(
    MAX_ENTRIES,
  );
  private readonly ttlMs: number;
  /** Bumped by every forget: a check that began before one must not cache what it read. */
  private changes = 0;
  private readonly subscription: Subscription;
  private readonly unsubscribe?: () => void;

  constructor(
    @Inject(settingsConfig.KEY) settings: AppSettings,
    users: UsersService,
    @Optional() @Inject(CHANGE_BUS) changes?: ChangeBus,
  ) {
    this.ttlMs = settings.authCacheTtl * 1000;
    this.subscription = users.credentialChanges.subscribe((username) => this.forget(username));
    this.unsubscribe = changes?.subscribe((change) => {
      if (change.kind === 'reset') {
        this.changes++;
        this.entries.clear();
      }
    });
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
    this.unsubscribe?.();
  }

  fingerprint(username: string, password: string): string {
    return hash('sha256', this.key + JSON.stringify([username, password]), 'base64url');
  }

  get(fingerprint: string): AuthenticatedUser | undefined {
    const entry = this.entries.get(fingerprint);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.user;
    this.entries.delete(fingerprint);
    return undefined;
  }

  /** What `set` needs to know that no credential changed since a check began. */
  get epoch(): number {
    return this.changes;
  }

  /** Remembers a verified credential, unless a credential changed since `epoch` was read. */
  set(fingerprint: string, user: AuthenticatedUser, epoch: number): void {
    if (this.ttlMs === 0 || epoch !== this.changes) return;
    this.entries.set(fingerprint, { user, until: Date.now() + this.ttlMs });
  }

  forget(username: string): void {
    this.changes++;
    for (const [fingerprint, entry] of this.entries) {
      if (entry.user.username === username) this.entries.delete(fingerprint);
    }
  }
}

import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Subject } from 'rxjs';
import { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';
import { type ChangeBus, CHANGE_BUS } from '../changes/change-bus';
import { BoundedMap } from '../common/bounded-map';
import { badField } from '../common/http/bad-request';
import { canonicalUsername } from '../common/validation/username';
import { type Actor, AuditService } from '../audit/audit.service';
import { MetricsService } from '../metrics/metrics.service';
import { UpsertUserDto } from './dto/upsert-user.dto';
import { USER_COUNT_LIMIT } from './dto/user-list-query.dto';
import { UserEntity } from './entities/user.entity';
import { PasswordHasher } from './password-hasher.service';
import { encodeUserCursor } from './user-cursor';
import { ADMINISTRATOR, DEFAULT_USER_TYPE, UserType } from './user-types';
import { isUniqueViolation } from '../common/storage-failure';

const KNOWN_TTL_MS = 5000;
const MAX_KNOWN = 10000;

export const PROFILE_FIELDS = [
  'name',
  'email',
  'mobile',
  'dept',
  'title',
  'company',
  'dob',
  'description',
] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];
export type Profile = Partial<Record<ProfileField, string | null>>;

export interface NewUser {
  username: string;
  profile: Profile;
  usertype: UserType;
  roles: string[];
  passwordHash: string | null;
  enabled?: boolean;
}

export interface UserFilters {
  usertype?: UserType;
  enabled?: boolean;
}

export interface UserPage {
  users: UserEntity[];
  total: number;
  totalExact: boolean;
  next?: string;
}

/** The user store: lookups, the admin API's writes, and the rule that one Administrator always stays. */
@Injectable()
export class UsersService {
  /** Emits a username whenever that user's password, type or enabled flag may have changed. */
  readonly credentialChanges = new Subject<string>();
  private readonly known = new BoundedMap<string, { user: UserEntity; until: number }>(MAX_KNOWN);
  /** Bumped by every drop, so that a read begun before it does not cache what it found. */
  private generation = 0;

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Optional() @Inject(CHANGE_BUS) private readonly changes?: ChangeBus,
  ) {
    // Another instance's change (or a lost connection: anything may have changed) drops it here too.
    changes?.subscribe((change) => {
      if (change.kind === 'user') this.forget(change.username);
      else if (change.kind === 'reset') {
        this.generation += 1;
        this.known.clear();
      }
    });
  }

  /**
   * The user, or null. Users found are remembered for KNOWN_TTL_MS, since every mint, token
   * sign-in and session asks: a change made here drops the entry at once, another instance's
   * when it is announced (CHANGE_BUS), at worst within that time. A name no user can have never reaches the database.
   */
  async findByUsername(username: string): Promise<UserEntity | null> {
    // Only the stored form (NFC) finds a user: entry points normalise what they are given.
    if (canonicalUsername(username) !== username) return null;
    const now = Date.now();
    const known = this.known.get(username);
    this.metrics.cacheLookup('users');
    if (known && known.until > now) return known.user;
    this.metrics.cacheMiss('users');
    const generation = this.generation;
    const user = await this.users.findOneBy({ username });
    if (generation !== this.generation) return user;
    if (user) this.known.set(username, { user, until: now + KNOWN_TTL_MS });
    else this.known.delete(username);
    return user;
  }

  /** Every user the filters match, by username: user/list without paging, for older clients. */
  list(filters: UserFilters = {}): Promise<UserEntity[]> {
    return this.matching(filters).orderBy('user.username', 'ASC').getMany();
  }

  /**
   * A page of users by username, after `after` when given. Each filter reads an index in username
   * order, so a page costs the same however many users there are; so does the count, which stops
   * one past USER_COUNT_LIMIT.
   */
  async page(filters: UserFilters, size: number, after?: string): Promise<UserPage> {
    const rows = this.matching(filters)
      .orderBy('user.username', 'ASC')
      .take(size + 1);
    if (after !== undefined) rows.andWhere('user.username > :after', { after });
    const [found, counted] = await Promise.all([rows.getMany(), this.count(filters)]);
    const users = found.slice(0, size);
    const last = users.at(-1);
    return {
      users,
      total: Math.min(counted, USER_COUNT_LIMIT),
      totalExact: counted <= USER_COUNT_LIMIT,
      ...(found.length > size && last ? { next: encodeUserCursor(last.username) } : {}),
    };
  }

  private matching(filters: UserFilters): SelectQueryBuilder<UserEntity> {
    const rows = this.users.createQueryBuilder('user');
    if (filters.usertype !== undefined)
      rows.andWhere('user.usertype = :usertype', { usertype: filters.usertype });
    if (filters.enabled !== undefined)
      rows.andWhere('user.enabled = :enabled', { enabled: filters.enabled });
    return rows;
  }

  /** How many users match, counted up to one past the limit. */
  private async count(filters: UserFilters): Promise<number> {
    const [sql, parameters] = this.matching(filters)
      .select('1')
      .limit(USER_COUNT_LIMIT + 1)
      .getQueryAndParameters();
    const [{ matched }] = (await this.users.query(
      `SELECT COUNT(*) AS matched FROM (${sql}) counted`,
      parameters,
    )) as [{ matched: number | string }];
    return Number(matched);
  }

  /** The user if the password is right and the account enabled; null otherwise, in the same time. */
  async verifyCredentials(username: string, password: string): Promise<UserEntity | null> {
    const user = await this.findByUsername(username);
    const matches = await this.hasher.verify(password, user?.passwordHash ?? null);
    return matches && user?.enabled ? user : null;
  }

  countEnabledAdministrators(): Promise<number> {
    return this.users.countBy({ usertype: ADMINISTRATOR, enabled: true });
  }

  /** Inserts a new user; null when the username was taken meanwhile. */
  async create(
    user: NewUser,
    manager: EntityManager = this.users.manager,
  ): Promise<UserEntity | null> {
    const now = Date.now();
    const entity = manager.create(UserEntity, {
      id: randomUUID(),
      username: user.username,
      passwordHash: user.passwordHash,
      ...Object.fromEntries(PROFILE_FIELDS.map((field) => [field, user.profile[field] ?? null])),
      usertype: user.usertype,
      roles: user.roles,
      enabled: user.enabled ?? true,
      createdDate: now,
      lastModifiedDate: now,
      accessChangedDate: now,
    });
    try {
      await manager.insert(UserEntity, entity);
      return entity;
    } catch (error) {
      // On PostgreSQL the failed INSERT aborted the caller's transaction: no query may follow it.
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async insertOrUpdate(dto: UpsertUserDto, actor: Actor): Promise<{ created: boolean }> {
    const passwordHash =
      dto.password === undefined ? undefined : await this.hasher.hash(dto.password);
    const record = (created: boolean) => [
      { actor, action: created ? 'user.create' : 'user.update', target: dto.username },
    ];
    const created = await this.audit.recordChange(async (manager) => {
      const existing = await manager.findOneBy(UserEntity, { username: dto.username });
      const profile = Object.fromEntries(
        PROFILE_FIELDS.filter((field) => dto[field] !== undefined).map((field) => [
          field,
          dto[field] || null,
        ]),
      );
      if (!existing) {
        if (passwordHash === undefined)
          throw badField('password', 'is required when creating a user');
        const user = await this.create(
          {
            username: dto.username,
            profile,
            usertype: (dto.usertype as UserType | undefined) ?? DEFAULT_USER_TYPE,
            roles: dto.roles ?? [],
            passwordHash,
            enabled: dto.enabled !== '0',
          },
          manager,
        );
        if (!user) throw new ConflictException(`user ${dto.username} was created meanwhile`);
        return true;
      }
      const now = Date.now();
      const changes: Partial<UserEntity> = { ...profile, lastModifiedDate: now };
      if (passwordHash !== undefined) changes.passwordHash = passwordHash;
      if (dto.usertype !== undefined) changes.usertype = dto.usertype as UserType;
      if (dto.roles !== undefined) changes.roles = dto.roles;
      if (dto.enabled !== undefined) changes.enabled = dto.enabled === '1';
      const accessChanged =
        passwordHash !== undefined ||
        (changes.usertype ?? existing.usertype) !== existing.usertype ||
        (changes.enabled ?? existing.enabled) !== existing.enabled;
      if (accessChanged) changes.accessChangedDate = now;
      const staysAdmin =
        (changes.usertype ?? existing.usertype) === ADMINISTRATOR &&
        (changes.enabled ?? existing.enabled);
      if (!staysAdmin) await this.keepOneAdministrator(existing, manager);
      await manager.update(UserEntity, { id: existing.id }, changes);
      return false;
    }, record);
    this.forget(dto.username);
    await this.changes?.publish({ kind: 'user', username: dto.username });
    return { created };
  }

  async delete(username: string, actor: Actor): Promise<void> {
    await this.audit.recordChange(
      async (manager) => {
        const existing = await manager.findOneBy(UserEntity, { username });
        if (!existing) throw new NotFoundException(`user ${username} does not exist`);
        await this.keepOneAdministrator(existing, manager);
        await manager.delete(UserEntity, { id: existing.id });
      },
      () => [{ actor, action: 'user.delete', target: username }],
    );
    this.forget(username);
    await this.changes?.publish({ kind: 'user', username });
  }

  private forget(username: string): void {
    this.generation += 1;
    this.known.delete(username);
    this.credentialChanges.next(username);
  }

  private async keepOneAdministrator(leaving: UserEntity, manager: EntityManager): Promise<void> {
    if (leaving.usertype !== ADMINISTRATOR || !leaving.enabled) return;
    // On PostgreSQL, concurrent removals must queue on the Administrator rows, or each would still
    // count the others; SQLite runs one write transaction at a time anyway.
    const lock =
      manager.connection.options.type === 'postgres'
        ? { mode: 'pessimistic_write' as const }
        : undefined;
    const admins = await manager.find(UserEntity, {
      select: { id: true },
      where: { usertype: ADMINISTRATOR, enabled: true },
      lock,
    });
    if (admins.length <= 1)
      throw new ConflictException(
        'the last enabled Administrator cannot be removed, disabled or demoted',
      );
  }
}

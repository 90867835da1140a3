import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { type AppSettings, settingsConfig } from '../config/settings.config';
import { PasswordHasher } from '../users/password-hasher.service';
import { ADMINISTRATOR } from '../users/user-types';
import { UsersService } from '../users/users.service';

export const ADMIN_PASSWORD_FILE = 'admin-password.txt';

/**
 * On a first start with no enabled Administrator, creates one from ADMIN_USERNAME and ADMIN_PASSWORD;
 * without a password, a random one goes to a file only the owner can read, and the log names the file.
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    @Inject(settingsConfig.KEY) private readonly settings: AppSettings,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if ((await this.users.countEnabledAdministrators()) > 0) return;
    const username = this.settings.adminUsername;
    if (await this.users.findByUsername(username)) {
      this.logger.warn(
        `no enabled Administrator exists and user ${username} is not one; enable an Administrator by hand`,
      );
      return;
    }
    let password = this.settings.adminPassword;
    let file: string | undefined;
    if (!password) {
      password = randomBytes(18).toString('base64url');
      mkdirSync(this.settings.dataDir, { recursive: true, mode: 0o700 });
      file = resolve(join(this.settings.dataDir, ADMIN_PASSWORD_FILE));
      writeFileSync(file, `${password}\n`, { mode: 0o600 });
    }
    await this.users.create({
      username,
      profile: { name: 'Administrator' },
      usertype: ADMINISTRATOR,
      roles: [],
      passwordHash: await this.hasher.hash(password),
    });
    this.logger.log(
      file
        ? `created Administrator ${username}; its generated password is in ${file} (readable by this user only)`
        : `created Administrator ${username} with the password from ADMIN_PASSWORD`,
    );
  }
}

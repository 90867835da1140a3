import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { PasswordHasher } from '../../users/password-hasher.service';
import { ADMINISTRATOR } from '../../users/user-types';
import { UsersService } from '../../users/users.service';

export const ADMIN_PASSWORD_FILE = 'admin-password.txt';

/**
 * On a first start with no enabled Administrator, creates one from ADMIN_USERNAME and ADMIN_PASSWORD;
 * without a password, a random one goes to a file only the owner can read, and the log names the file.
 * Instances started together on one database race here: the insert decides, and only the instance
 * whose insert won writes its password file.
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
    const existing = await this.users.findByUsername(username);
    if (existing) {
      // Another instance may have created it since the count.
      if (existing.usertype !== ADMINISTRATOR || !existing.enabled)
        this.logger.warn(
          `no enabled Administrator exists and user ${username} is not one; enable an Administrator by hand`,
        );
      return;
    }
    const password = this.settings.adminPassword ?? randomBytes(18).toString('base64url');
    // Written aside first, so that a DATA_DIR we cannot write stops the start before the insert.
    const file = this.settings.adminPassword ? undefined : this.writePendingFile(password);
    const created = await this.users.create({
      username,
      profile: { name: 'Administrator' },
      usertype: ADMINISTRATOR,
      roles: [],
      passwordHash: await this.hasher.hash(password),
    });
    if (!created) {
      if (file) rmSync(file.pending, { force: true });
      this.logger.log(`Administrator ${username} was created meanwhile by another instance`);
      return;
    }
    if (file) renameSync(file.pending, file.final);
    this.logger.log(
      file
        ? `created Administrator ${username}; its generated password is in ${file.final} (readable by this user only)`
        : `created Administrator ${username} with the password from ADMIN_PASSWORD`,
    );
  }

  private writePendingFile(password: string): { pending: string; final: string } {
    mkdirSync(this.settings.dataDir, { recursive: true, mode: 0o700 });
    const final = resolve(join(this.settings.dataDir, ADMIN_PASSWORD_FILE));
    const pending = `${final}.${process.pid}.pending`;
    writeFileSync(pending, `${password}\n`, { mode: 0o600 });
    return { pending, final };
  }
}

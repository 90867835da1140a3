import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_MODULE_OPTIONS, type AccessModuleOptions } from './access.module-definition';
import { defaultPrincipal, type Principal, type PrincipalReader } from './principal';

interface RequestWithUser {
  user?: unknown;
  ip?: string;
}

/** Reads who the caller is from `request.user`, with the host app's `principal` reader. */
@Injectable()
export class PrincipalService {
  private readonly read: PrincipalReader;

  constructor(@Inject(ACCESS_MODULE_OPTIONS) options: AccessModuleOptions) {
    this.read = options.principal ?? defaultPrincipal;
  }

  of(request: RequestWithUser): Principal | undefined {
    return request.user ? this.read(request.user) : undefined;
  }

  /** The caller as the audit trail names it: username and client address. */
  actor(request: RequestWithUser): { username: string; client?: string } {
    return { username: this.of(request)?.username ?? 'anonymous', client: request.ip };
  }
}

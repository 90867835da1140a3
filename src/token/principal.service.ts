import { Inject, Injectable } from '@nestjs/common';
import {
  type Principal,
  TOKEN_MODULE_OPTIONS,
  type TokenModuleOptions,
} from './token.module-definition';

interface RequestWithUser {
  user?: unknown;
  ip?: string;
}

function defaultPrincipal(user: unknown): Principal | undefined {
  const candidate = user as Partial<Principal> | null | undefined;
  if (typeof candidate?.username !== 'string' || typeof candidate.usertype !== 'string')
    return undefined;
  return { username: candidate.username, usertype: candidate.usertype, via: candidate.via };
}

/** Reads who the caller is from `request.user`, as the host app's options say. */
@Injectable()
export class PrincipalService {
  private readonly read: (user: unknown) => Principal | undefined;

  constructor(@Inject(TOKEN_MODULE_OPTIONS) options: TokenModuleOptions) {
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

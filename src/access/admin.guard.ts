import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { ADMINISTRATOR, canonicalUserType } from '../users/user-types';
import { PrincipalService } from './principal.service';

/** Lets Administrators through. It does not authenticate: whoever ran before it put `request.user` in place. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly principals: PrincipalService) {}

  canActivate(context: ExecutionContext): boolean {
    const principal = this.principals.of(context.switchToHttp().getRequest());
    if (!principal) throw new UnauthorizedException('authentication is required');
    if (principal.via === 'token') {
      throw new ForbiddenException('a session opened with a token cannot manage tokens or users');
    }
    if (canonicalUserType(principal.usertype) !== ADMINISTRATOR) {
      throw new ForbiddenException('only an Administrator may call this endpoint');
    }
    return true;
  }
}

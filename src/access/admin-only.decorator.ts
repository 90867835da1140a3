import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { AdminGuard } from './admin.guard';

export const NO_TOKEN_SIGN_UP = 'datafor:no-token-sign-up';

/**
 * An endpoint where a token signs nobody up: the token still authenticates its user, but an
 * unknown one is not created here (a refused request must change nothing, and these endpoints
 * refuse token sessions or bodies often enough).
 */
export const NoTokenSignUp = () => SetMetadata(NO_TOKEN_SIGN_UP, true);

/** An endpoint for Administrators: AdminGuard, and no sign-up by token (a token session gets 403 here). */
export const AdminOnly = () => applyDecorators(NoTokenSignUp(), UseGuards(AdminGuard));

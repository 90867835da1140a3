import { SetMetadata } from '@nestjs/common';

export const SAME_ORIGIN_ONLY = 'datafor:same-origin-only';

/**
 * An endpoint whose unsafe requests must come from the service's own origin (or CORS_ORIGINS)
 * even without a session cookie: the session login, which would otherwise let another site
 * sign a browser in as the attacker (login CSRF).
 */
export const SameOriginOnly = () => SetMetadata(SAME_ORIGIN_ONLY, true);

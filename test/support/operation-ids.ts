import { API, AUDIT_API, SESSION_API, TOKEN_API, USER_API } from './api-paths';

/**
 * The ids of the operations TokenModule brings (token, JWKS, users, audit), verb first, by
 * `method path`: what a generated client names its methods. Set on each route's @ApiOperation, so
 * a host app's own document carries them too.
 */
export const MODULE_OPERATION_IDS: Record<string, string> = {
  [`post ${TOKEN_API}/generate`]: 'generateToken',
  [`post ${TOKEN_API}/update`]: 'saveConfiguration',
  [`get ${TOKEN_API}/list`]: 'listConfigurations',
  [`get ${TOKEN_API}/content`]: 'getConfiguration',
  [`post ${TOKEN_API}/delete`]: 'deleteConfiguration',
  [`post ${TOKEN_API}/deleteBatch`]: 'deleteConfigurations',
  [`post ${TOKEN_API}/rotate`]: 'rotateKey',
  [`post ${TOKEN_API}/retire`]: 'retireKey',
  [`post ${TOKEN_API}/revoke`]: 'revokeTokens',
  [`post ${TOKEN_API}/verify`]: 'verifyToken',
  'get /.well-known/jwks.json': 'getJwks',
  [`get ${USER_API}/detail`]: 'getCurrentUser',
  [`post ${USER_API}/insertOrUpdate`]: 'saveUser',
  [`post ${USER_API}/delete`]: 'deleteUser',
  [`get ${USER_API}/list`]: 'listUsers',
  [`get ${API}/roles/types`]: 'listUserTypes',
  [`get ${AUDIT_API}/list`]: 'listAuditEvents',
  [`get ${AUDIT_API}/export`]: 'exportAuditEvents',
};

/** Every operation of the standalone service: the module's, then its own (session, health, metrics). */
export const OPERATION_IDS: Record<string, string> = {
  ...MODULE_OPERATION_IDS,
  [`post ${SESSION_API}/login`]: 'login',
  [`post ${SESSION_API}/logout`]: 'logout',
  'get /health/live': 'getLiveness',
  'get /health/ready': 'getReadiness',
  'get /metrics': 'getMetrics',
};

// The service's API paths, for suites and benchmarks that do not start the app in-process.

/** The Datafor modeler API's root: the token, user, roles and audit routes. */
export const API = '/plugin/datafor-modeler/api';
export const TOKEN_API = `${API}/token`;
export const USER_API = `${API}/user`;
export const AUDIT_API = `${API}/audit`;
export const SESSION_API = '/plugin/datafor/api/extension/auth';

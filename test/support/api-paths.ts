/** The service's API paths, for suites and benchmarks that do not start the app in-process. */
export const TOKEN_API = '/plugin/datafor-modeler/api/token';
export const USER_API = '/plugin/datafor-modeler/api/user';
export const SESSION_API = '/plugin/datafor/api/extension/auth';

import { ConfigurableModuleBuilder, Global, Module } from '@nestjs/common';

/**
 * How the Datafor API's routes answer an error. `http` (the default): with its status. `200`: with
 * HTTP 200 and the same envelope, `code` keeping the status, as Datafor's own API does, for clients
 * that throw on a 4xx before they read `success`.
 */
export const ERROR_STATUS_MODES = ['http', '200'] as const;
export type ErrorStatusMode = (typeof ERROR_STATUS_MODES)[number];

/**
 * Kept in either mode: 429 and 503 ask the client to come back later (Retry-After), which retry
 * libraries, proxies and load balancers read from the status; a 5xx is a fault to be seen as one.
 */
const ALWAYS_HTTP = (status: number) => status === 429 || status >= 500;

/** The status an error of `status` answers with on a Datafor API route. */
export function answeredStatus(status: number, mode: ErrorStatusMode): number {
  return mode === '200' && !ALWAYS_HTTP(status) ? 200 : status;
}

/** The Datafor API's routes (token, user, audit, roles, session), under any prefix. */
const DATAFOR_API_ROUTES = ['/plugin/datafor-modeler/api/', '/plugin/datafor/api/'];

export function isDataforApiUrl(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0];
  return DATAFOR_API_ROUTES.some((root) => path.includes(root));
}

export interface ErrorStatusOptions {
  errorStatus?: ErrorStatusMode;
}

export const {
  ConfigurableModuleClass: ConfigurableErrorStatusModule,
  MODULE_OPTIONS_TOKEN: ERROR_STATUS_OPTIONS,
} = new ConfigurableModuleBuilder<ErrorStatusOptions>().setClassMethodName('forRoot').build();

/**
 * Holds the mode for every controller's EnvelopeExceptionFilter. Global, as the filter serves the
 * user, audit and session controllers too; TokenModule sets it up from its options.
 */
@Global()
@Module({ exports: [ERROR_STATUS_OPTIONS] })
export class ErrorStatusModule extends ConfigurableErrorStatusModule {}

import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { type AppSettings, settingsConfig } from './settings.config';
import { loggerOptions } from './logger-options';

export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** Structured JSON logs through pino, with secrets redacted. Tests may provide LOG_DESTINATION to read them. */
@Module({})
export class LoggingModule {
  static forRoot(destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [settingsConfig.KEY],
          useFactory: (settings: AppSettings) => ({
            // nestjs-pino's default route, `{/*splat}`, matches nothing under NestJS 12 on Fastify.
            forRoutes: [{ path: '*splat', method: RequestMethod.ALL }],
            pinoHttp: destination
              ? [loggerOptions(settings.logLevel), destination]
              : loggerOptions(settings.logLevel),
          }),
        }),
      ],
    };
  }
}

import { Module } from '@nestjs/common';
import { ConfigurableTokenOptionsModule, TOKEN_MODULE_OPTIONS } from './token.module-definition';

/**
 * Holds TOKEN_MODULE_OPTIONS, from `forRoot`'s value or `forRootAsync`'s factory (run once), for
 * TokenModule and for the AccessOptionsModule that TokenModule sets up with the options' `principal`.
 */
@Module({ exports: [TOKEN_MODULE_OPTIONS] })
export class TokenOptionsModule extends ConfigurableTokenOptionsModule {}

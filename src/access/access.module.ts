import { Global, Module } from '@nestjs/common';
import { ConfigurableAccessModule } from './access.module-definition';
import { AdminGuard } from './admin.guard';
import { PrincipalService } from './principal.service';

/**
 * Who the caller is (`PrincipalService`, with the host's `principal` reader) and the Administrator
 * rule (`AdminGuard`, `@AdminOnly()`). Global by design, like ConfigModule: the user, audit and
 * session endpoints and the host's own modules use it without importing it. `TokenModule.forRoot`
 * and `forRootAsync` import it with the host's reader; `AccessModule.forRoot({ principal })` and
 * `forRootAsync(...)` are its two ways in.
 */
@Global()
@Module({ providers: [PrincipalService, AdminGuard], exports: [PrincipalService, AdminGuard] })
export class AccessModule extends ConfigurableAccessModule {}

import { Global, Module } from '@nestjs/common';
import { AdminGuard } from './admin.guard';
import { PrincipalService } from './principal.service';

/**
 * Who the caller is (`PrincipalService`) and the Administrator rule (`AdminGuard`, `@AdminOnly()`).
 * Every library module that uses them imports it. Global too, for the host's own modules, which
 * guard their routes with `AdminGuard` whether or not they import TokenModule. The reader it uses
 * is the host's `principal`, held by AccessOptionsModule, which TokenModule sets up.
 */
@Global()
@Module({ providers: [PrincipalService, AdminGuard], exports: [PrincipalService, AdminGuard] })
export class AccessModule {}

import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { GUARDS_METADATA, MODULE_METADATA } from '@nestjs/common/constants';
import { TokenModule } from '../token/token.module';
import { AccessModule } from './access.module';
import { AdminGuard } from './admin.guard';
import { PrincipalService } from './principal.service';

const ACCESS = [AdminGuard, PrincipalService];

function classes(module: Type, key: string): Type[] {
  const listed = (Reflect.getMetadata(key, module) ?? []) as unknown[];
  return listed.filter((entry): entry is Type => typeof entry === 'function');
}

/** The library's modules TokenModule imports, itself first. */
function modulesFrom(root: Type, seen = new Set<Type>()): Type[] {
  if (seen.has(root)) return [];
  seen.add(root);
  return [root, ...classes(root, MODULE_METADATA.IMPORTS).flatMap((m) => modulesFrom(m, seen))];
}

/** Whether the controller, or one of its routes, is guarded by AdminGuard. */
function guardedByAdmin(controller: Type): boolean {
  const routes = Object.values(Object.getOwnPropertyDescriptors(controller.prototype))
    .map((descriptor) => descriptor.value as unknown)
    .filter((value): value is object => typeof value === 'function');
  return [controller, ...routes].some((target) =>
    ((Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as unknown[]).includes(AdminGuard),
  );
}

/** Whether a module's controllers are guarded by AdminGuard, or its classes inject an access class. */
function usesAccess(module: Type): boolean {
  const controllers = classes(module, MODULE_METADATA.CONTROLLERS);
  const injects = (type: Type) =>
    ((Reflect.getMetadata('design:paramtypes', type) ?? []) as unknown[]).some((param) =>
      ACCESS.includes(param as Type),
    );
  return (
    controllers.some(guardedByAdmin) ||
    [...controllers, ...classes(module, MODULE_METADATA.PROVIDERS)].some(injects)
  );
}

describe('AccessModule', () => {
  it('is imported by every library module that uses AdminGuard or PrincipalService', () => {
    const users = modulesFrom(TokenModule).filter(
      (module) => module !== AccessModule && usesAccess(module),
    );
    expect(users.map((module) => module.name)).toEqual(
      expect.arrayContaining(['TokenModule', 'UsersModule', 'AuditModule']),
    );
    const missing = users.filter(
      (module) => !classes(module, MODULE_METADATA.IMPORTS).includes(AccessModule),
    );
    expect(missing.map((module) => module.name)).toEqual([]);
  });
});

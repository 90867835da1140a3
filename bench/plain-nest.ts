/**
 * The plain-NestJS anchor: the same work as the service's mint and verify on the card's stack, and
 * nothing the service adds on top of it (issue 11):
 * - NestJS on Fastify, `logger: false`;
 * - a global ValidationPipe (whitelist, forbidNonWhitelisted, transform) over class-validator DTOs
 *   of the generate body, the payload nested with @ValidateNested;
 * - mint: a guard that finds the Basic credential in a Map and checks the user type, then
 *   @nestjs/jwt signing with a cached createSecretKey KeyObject and a random jti;
 * - verify: a guard that verifies the Bearer token with @nestjs/jwt and the cached KeyObject, then
 *   finds the user in a Map;
 * - no database, audit, logging, security headers or rate limit.
 * run.ts forks this file (its own process, like baseline.ts) and speaks the same messages.
 */
import 'reflect-metadata';
import { createSecretKey, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  Body,
  type CanActivate,
  Controller,
  type ExecutionContext,
  ForbiddenException,
  Get,
  HttpCode,
  Injectable,
  Module,
  NotFoundException,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import type { FastifyRequest } from 'fastify';
import type { BaselineStart } from './baseline';
import { serveChild } from './child';
import { ADMIN, basic } from './credentials';

class PayloadDto {
  @IsString() @IsNotEmpty() @MaxLength(128) username: string;
  @IsOptional() @IsString() @MaxLength(256) name?: string;
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  roles?: string[];
  @IsOptional() @IsString() @MaxLength(256) inituser?: string;
  @IsOptional() @IsString() @MaxLength(256) password?: string;
  @IsOptional() @IsString() @MaxLength(256) company?: string;
  @IsOptional() @IsString() @MaxLength(256) dept?: string;
  @IsOptional() @IsString() @MaxLength(256) email?: string;
  @IsOptional() @IsString() @MaxLength(256) description?: string;
  @IsOptional() @IsString() @MaxLength(256) title?: string;
  @IsOptional() @IsString() @MaxLength(256) dob?: string;
  @IsOptional() @IsString() @MaxLength(256) mobile?: string;
}

class GenerateDto {
  @IsString() @Matches(/^[A-Za-z0-9_-]{1,64}$/) name: string;
  @IsString() @IsNotEmpty() @MaxLength(8192) privateKey: string;
  @IsObject() @ValidateNested() @Type(() => PayloadDto) payload: PayloadDto;
}

interface User {
  username: string;
  usertype: 'Administrator' | 'User';
}

type Authenticated = FastifyRequest & { user?: User };

const MAPPED_FIELDS = ['username', 'name', 'email'] as const;

export async function startPlainNest({
  config,
  path,
  verifyPath,
  username,
}: BaselineStart): Promise<NestFastifyApplication> {
  const key = createSecretKey(Buffer.from(config.secret, 'utf8'));
  const secret = Buffer.from(config.secret, 'utf8');
  const credentials = new Map<string, User>([
    [
      basic(ADMIN.username, ADMIN.password).slice(6),
      { username: ADMIN.username, usertype: 'Administrator' },
    ],
  ]);
  const users = new Map<string, User>([[username, { username, usertype: 'User' }]]);

  @Injectable()
  class BasicAdminGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      const request = context.switchToHttp().getRequest<Authenticated>();
      const authorization = request.headers.authorization;
      const user =
        authorization?.slice(0, 6).toLowerCase() === 'basic '
          ? credentials.get(authorization.slice(6).trim())
          : undefined;
      if (!user) throw new UnauthorizedException('wrong username or password');
      if (user.usertype !== 'Administrator') throw new ForbiddenException();
      request.user = user;
      return true;
    }
  }

  @Injectable()
  class BearerGuard implements CanActivate {
    constructor(private readonly jwt: JwtService) {}

    canActivate(context: ExecutionContext): boolean {
      const request = context.switchToHttp().getRequest<Authenticated>();
      const authorization = request.headers.authorization;
      if (authorization?.slice(0, 7).toLowerCase() !== 'bearer ') throw new UnauthorizedException();
      let claims: Record<string, unknown>;
      try {
        claims = this.jwt.verify(authorization.slice(7).trim(), {
          secret: key as unknown as string,
          algorithms: ['HS256'],
        });
      } catch {
        throw new UnauthorizedException('the token is not valid');
      }
      const user = users.get(String(claims[config.fieldmap.username]));
      if (!user) throw new UnauthorizedException('the token is not valid');
      request.user = user;
      return true;
    }
  }

  @Controller()
  class PlainController {
    constructor(private readonly jwt: JwtService) {}

    @Post(path)
    @HttpCode(200)
    @UseGuards(BasicAdminGuard)
    generate(@Body() dto: GenerateDto) {
      if (dto.name !== config.name) throw new NotFoundException();
      const given = Buffer.from(dto.privateKey, 'utf8');
      if (given.length !== secret.length || !timingSafeEqual(given, secret))
        throw new ForbiddenException();
      const claims: Record<string, string | string[]> = {};
      for (const field of MAPPED_FIELDS) {
        const value = dto.payload[field];
        if (value !== undefined) claims[config.fieldmap[field] ?? field] = value;
      }
      for (const [field, value] of Object.entries(dto.payload) as [string, string | string[]][]) {
        if (value === undefined || field === 'password') continue;
        if (!(MAPPED_FIELDS as readonly string[]).includes(field)) claims[field] = value;
      }
      const token = this.jwt.sign(
        { ...claims, jti: randomUUID() },
        {
          privateKey: key as unknown as string,
          algorithm: 'HS256',
          expiresIn: config.expire,
          header: { alg: 'HS256', typ: 'JWT', kid: config.name },
        },
      );
      return { success: true, expire: config.expire, token };
    }

    @Get(verifyPath)
    @UseGuards(BearerGuard)
    detail(@Req() request: Authenticated) {
      return { success: true, data: { user: { username: request.user?.username } } };
    }
  }

  @Module({ imports: [JwtModule.register({})], controllers: [PlainController] })
  class PlainModule {}

  const app = await NestFactory.create<NestFastifyApplication>(PlainModule, new FastifyAdapter(), {
    logger: false,
  });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

if (require.main === module) {
  serveChild((start: BaselineStart) =>
    startPlainNest(start).then((app) => ({
      server: app.getHttpServer(),
      close: () => app.close(),
    })),
  );
}

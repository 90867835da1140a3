import {
  Body,
  Controller,
  HttpCode,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseFilters,
  UsePipes,
} from '@nestjs/common';
import { ApiConsumes, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { createValidationPipe } from '../common/validation/validation.pipe';
import { SuccessMsgResponseDto } from '../token/dto/token-config-view.dto';
import { UsersService } from '../users/users.service';
import { LoginDto, LoginResponseDto } from './dto/login.dto';
import { SESSION_COOKIE, SessionService } from './session.service';

@ApiTags('session')
@Controller('plugin/datafor/api/extension/auth')
@UsePipes(createValidationPipe())
@UseFilters(EnvelopeExceptionFilter)
export class SessionController {
  constructor(
    private readonly sessions: SessionService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Open a session: sets the HttpOnly cookie JSESSIONID' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiErrors(400, 401, 413, 415)
  async login(
    @Body() dto: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginResponseDto> {
    const actor = { username: dto.username, client: request.ip };
    const user = await this.users.verifyCredentials(dto.username, dto.password);
    if (!user) {
      await this.audit.record({
        actor,
        action: 'session.login',
        target: dto.username,
        outcome: 'failure',
      });
      throw new UnauthorizedException('wrong username or password');
    }
    if ((await this.sessions.find(request.cookies[SESSION_COOKIE])) === user.username) {
      return { success: true, data: '2', msg: 'success' };
    }
    const id = await this.sessions.open(user.username);
    void reply.setCookie(SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: this.sessions.ttlSeconds,
      secure: request.protocol === 'https',
    });
    await this.audit.record({ actor, action: 'session.login', target: user.username });
    return { success: true, data: '1', msg: 'success' };
  }

  @Post('logout')
  @HttpCode(200)
  @ApiCookieAuth('session')
  @ApiOperation({ summary: 'End the session of the cookie' })
  @ApiOkResponse({ type: SuccessMsgResponseDto })
  async logout(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SuccessMsgResponseDto> {
    await this.sessions.close(request.cookies[SESSION_COOKIE]);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { success: true, msg: 'success' };
  }
}

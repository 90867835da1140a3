import {
  Body,
  Inject,
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
import { NoRateLimit } from '../common/http/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppSettings, settingsConfig } from '../config/settings.config';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { createValidationPipe } from '../common/validation/validation.pipe';
import { SuccessMsgResponseDto } from '../token/dto/token-config-view.dto';
import { NoTokenSignUp } from '../token/guards/admin-only.decorator';
import { CredentialVerifier } from './credential-verifier.service';
import { SameOriginOnly } from './guards/same-origin-only.decorator';
import { LoginDto, LoginResponseDto } from './dto/login.dto';
import { SESSION_COOKIE, SessionService } from './session.service';

@ApiTags('session')
@NoTokenSignUp()
@Controller('plugin/datafor/api/extension/auth')
@UsePipes(createValidationPipe())
@UseFilters(EnvelopeExceptionFilter)
export class SessionController {
  private readonly secureCookies: boolean;

  constructor(
    private readonly sessions: SessionService,
    private readonly credentials: CredentialVerifier,
    @Inject(settingsConfig.KEY) settings: AppSettings,
  ) {
    this.secureCookies = settings.cookieSecure;
  }

  @Post('login')
  @SameOriginOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Open a session: sets the HttpOnly cookie JSESSIONID' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiErrors(400, 401, 403, 413, 415, 429)
  async login(
    @Body() dto: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginResponseDto> {
    const user = await this.credentials.verify(dto.username, dto.password, request.ip, 'session');
    if (!user) throw new UnauthorizedException('wrong username or password');
    if ((await this.sessions.find(request.cookies[SESSION_COOKIE]))?.username === user.username) {
      return { success: true, data: '2', msg: 'success' };
    }
    const id = await this.sessions.open(user.username);
    void reply.setCookie(SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: this.sessions.ttlSeconds,
      secure: this.secureCookies || request.protocol === 'https',
    });
    return { success: true, data: '1', msg: 'success' };
  }

  @Post('logout')
  @NoRateLimit()
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

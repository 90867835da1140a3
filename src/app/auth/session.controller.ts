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
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { NoRateLimit } from '../../common/http/no-rate-limit.decorator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { EnvelopeExceptionFilter } from '../../common/filters/envelope-exception.filter';
import {
  ApiErrors,
  invalidField,
  SIGN_IN_THROTTLED,
  WRONG_CREDENTIALS,
} from '../../common/http/api-errors.decorator';
import { ApiOptionalAuth, ApiPublic } from '../../common/http/openapi';
import { createValidationPipe } from '../../common/validation/validation.pipe';
import { SuccessMsgResponseDto } from '../../common/http/success-msg-response.dto';
import { NoTokenSignUp } from '../../access/admin-only.decorator';
import { CredentialVerifier } from './credential-verifier.service';
import { DEVICE_COOKIE, DeviceCookies } from './device-cookies';
import { LoginDto, LoginResponseDto } from './dto/login.dto';
import { SESSION_COOKIE, SessionService } from './session.service';

@ApiTags('session')
@NoTokenSignUp()
@ApiErrors(500)
@Controller('plugin/datafor/api/extension/auth')
@UsePipes(createValidationPipe())
@UseFilters(EnvelopeExceptionFilter)
export class SessionController {
  private readonly secureCookies: boolean;

  constructor(
    private readonly sessions: SessionService,
    private readonly credentials: CredentialVerifier,
    private readonly devices: DeviceCookies,
    @Inject(settingsConfig.KEY) settings: AppSettings,
  ) {
    this.secureCookies = settings.cookieSecure;
  }

  @Post('login')
  @HttpCode(200)
  @ApiPublic()
  @ApiOperation({
    operationId: 'login',
    summary: 'Open a session: sets the HttpOnly cookies JSESSIONID and DATAFOR_DEVICE',
    description:
      'Checks username and password (a form, as Datafor posts it, or JSON). JSESSIONID then signs the browser in for ' +
      'SESSION_TTL seconds; DATAFOR_DEVICE marks it as a known device of the user, which repeated failures from other ' +
      'clients do not lock out. Failed sign-ins are counted per address and per user (429 past the limit).',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOkResponse({
    description: 'Signed in: data "1" for a new session, "2" when the cookie already had one',
    type: LoginResponseDto,
  })
  @ApiErrors(
    invalidField('username', 'must be a non-empty string'),
    { status: 401, description: 'Wrong username or password', msg: 'wrong username or password' },
    {
      status: 403,
      description: 'A sign-in posted from another site (Origin, Sec-Fetch-Site or Referer)',
      msg: "a request from another site cannot act with this service's session: its Origin, Sec-Fetch-Site or Referer names another origin",
    },
    413,
    415,
    {
      status: 429,
      description: 'Too many failed sign-ins from this address (see Retry-After)',
      msg: 'too many failed sign-ins: try again later',
    },
    503,
  )
  async login(
    @Body() dto: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginResponseDto> {
    const user = await this.credentials.verify(
      dto.username,
      dto.password,
      { address: request.ip, deviceCookie: request.cookies[DEVICE_COOKIE] },
      'session',
    );
    if (!user) throw new UnauthorizedException('wrong username or password');
    const secure = this.secureCookies || request.protocol === 'https';
    const again =
      (await this.sessions.find(request.cookies[SESSION_COOKIE]))?.username === user.username;
    if (!again) {
      void reply.setCookie(SESSION_COOKIE, await this.sessions.open(user.username), {
        httpOnly: true,
        sameSite: 'lax',
        path: '/',
        maxAge: this.sessions.ttlSeconds,
        secure,
      });
    }
    this.setDeviceCookie(reply, user.username, secure);
    return { success: true, data: again ? '2' : '1', msg: 'success' };
  }

  /** Marks this browser as a known client of the user (exempt from the lock strangers cause). */
  private setDeviceCookie(reply: FastifyReply, username: string, secure: boolean): void {
    if (this.devices.ttlSeconds === 0) return;
    void reply.setCookie(DEVICE_COOKIE, this.devices.issue(username), {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      maxAge: this.devices.ttlSeconds,
      secure,
    });
  }

  @Post('logout')
  @NoRateLimit()
  @HttpCode(200)
  @ApiOptionalAuth('session')
  @ApiOperation({
    operationId: 'logout',
    summary: 'End the session of the cookie',
    description:
      'Closes the session of the JSESSIONID cookie, if any, and clears the cookie. Answers success without a session too.',
  })
  @ApiOkResponse({
    description: 'The session, if there was one, is closed and its cookie cleared',
    type: SuccessMsgResponseDto,
  })
  @ApiErrors(
    WRONG_CREDENTIALS,
    {
      status: 403,
      description: 'A logout posted from another site (Origin, Sec-Fetch-Site or Referer)',
      msg: 'a request from another site cannot act on this service: its Origin, Sec-Fetch-Site or Referer names another origin',
    },
    413,
    415,
    SIGN_IN_THROTTLED,
    503,
  )
  async logout(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SuccessMsgResponseDto> {
    await this.sessions.close(request.cookies[SESSION_COOKIE]);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { success: true, msg: 'success' };
  }
}

import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  Req,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBody,
  ApiConsumes,
  ApiCookieAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { HttpRequest } from '../common/http/http-request';
import { JsonOrFormOnlyGuard } from '../common/http/json-or-form-only.guard';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';
import { ApiErrors, type ErrorAnswer, invalidField } from '../common/http/api-errors.decorator';
import { ApiFormBody } from '../common/http/openapi';
import { SuccessMsgResponseDto } from '../common/http/success-msg-response.dto';
import { MetricsService } from '../metrics/metrics.service';
import { createValidationPipe } from '../common/validation/validation.pipe';
import { ConfigNameListPipe } from './config-name-list.pipe';
import { GenerateTokenResponseDto } from './dto/generate-token-response.dto';
import { GenerateTokenFormDto } from './dto/generate-token-form.dto';
import { UpdateTokenConfigFormDto } from './dto/update-token-config-form.dto';
import { GENERATE_TOKEN_EXAMPLE, GenerateTokenDto } from './dto/generate-token.dto';
import { TokenConfigNameDto } from './dto/token-config-name.dto';
import {
  TokenConfigContentResponseDto,
  TokenConfigListResponseDto,
} from './dto/token-config-view.dto';
import { UPDATE_TOKEN_CONFIG_EXAMPLE, UpdateTokenConfigDto } from './dto/update-token-config.dto';
import { RevokeTokenDto } from './dto/revoke-token.dto';
import {
  RetireKeyDto,
  RetireKeyResponseDto,
  RotateKeyDto,
  RotateKeyResponseDto,
} from './dto/rotate-key.dto';
import { VerifyTokenDto, VerifyTokenResponseDto } from './dto/verify-token.dto';
import { FlatFormPayloadBody } from './flat-form-payload-body.decorator';
import { AdminOnly } from '../access/admin-only.decorator';
import { PrincipalService } from '../access/principal.service';
import { TokenConfigService } from './token-config.service';
import { TokenKeyService, tooManyKeyVersions } from './token-key.service';
import { TokenMintService } from './token-mint.service';
import { TokenRevocationService } from './token-revocation.service';
import { MAX_LIVE_KEY_VERSIONS } from './token.constants';

const JSON_OR_FORM = ['application/json', 'application/x-www-form-urlencoded'];
const CONFIG_NAME_INVALID = invalidField('name', 'must be 1 to 64 of A-Z, a-z, 0-9, _ and -');
const TOO_MANY_KEY_VERSIONS: ErrorAnswer = {
  status: 409,
  description: `The configuration has ${MAX_LIVE_KEY_VERSIONS} live key versions, the most it may have (token/retire ends the previous ones); or concurrent rotations raced this one`,
  msg: tooManyKeyVersions('ERP', MAX_LIVE_KEY_VERSIONS).message,
};

@ApiTags('token')
@ApiBasicAuth('basic')
@ApiCookieAuth('session')
@ApiErrors(401, 403, 429, 500, 503)
@Controller('plugin/datafor-modeler/api/token')
// Guards run in the order they are listed and decorators apply bottom-up: this one, above
// @AdminOnly(), runs after AdminGuard, whose 401 and 403 come before its 415.
@UseGuards(JsonOrFormOnlyGuard)
@AdminOnly()
@UsePipes(createValidationPipe())
@UseFilters(EnvelopeExceptionFilter)
export class TokenController {
  constructor(
    private readonly configs: TokenConfigService,
    private readonly keys: TokenKeyService,
    private readonly mints: TokenMintService,
    private readonly revocations: TokenRevocationService,
    private readonly principals: PrincipalService,
    private readonly metrics: MetricsService,
  ) {}

  @Post('generate')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'generateToken',
    summary: 'Generate a token',
    description:
      'Mints a signed JWT for payload.username with an enabled configuration whose key the service holds: HS*, or RS*/ES* with "keyholder":"service". ' +
      'The current user must be an Administrator. ' +
      'Also accepts the older form-urlencoded shape: name, privateKey, username and the other payload fields flat.',
  })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiBody({
    type: GenerateTokenDto,
    examples: {
      reader: { summary: 'A token for alice, a report reader', value: GENERATE_TOKEN_EXAMPLE },
    },
  })
  @ApiFormBody(GenerateTokenFormDto)
  @ApiOkResponse({
    description: 'The signed token and its lifetime in seconds',
    type: GenerateTokenResponseDto,
  })
  @ApiErrors(400, 404, 409, 413, 415)
  async generate(
    @FlatFormPayloadBody() dto: GenerateTokenDto,
    @Req() request: HttpRequest,
  ): Promise<GenerateTokenResponseDto> {
    const minting = this.mints.generate(dto, this.principals.actor(request));
    const minted = await this.metrics.countMint(dto.name, minting);
    return { success: true, ...minted };
  }

  @Post('update')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'saveConfiguration',
    summary: 'Create or replace a token configuration',
    description:
      'Saves the configuration called name: a new one, or the existing one replaced. Fields left out take their defaults, ' +
      'except secret and initpwd, which keep their stored values. The save is audited.',
  })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiBody({
    type: UpdateTokenConfigDto,
    examples: {
      enabled: {
        summary: 'An enabled HS256 configuration ERP, whose secret the generate example sends',
        value: UPDATE_TOKEN_CONFIG_EXAMPLE,
      },
    },
  })
  @ApiFormBody(UpdateTokenConfigFormDto)
  @ApiOkResponse({
    description: 'Saved; type "2" and a warning when an HMAC secret is shorter than recommended',
    type: SuccessMsgResponseDto,
  })
  @ApiErrors(CONFIG_NAME_INVALID, 413, 415)
  async update(
    @Body() dto: UpdateTokenConfigDto,
    @Req() request: HttpRequest,
  ): Promise<SuccessMsgResponseDto> {
    const { warning } = await this.configs.save(dto, this.principals.actor(request));
    return warning
      ? { success: true, msg: 'success', type: '2', warning }
      : { success: true, msg: 'success' };
  }

  @Get('list')
  @ApiOperation({
    operationId: 'listConfigurations',
    summary: 'List token configurations (secrets masked)',
    description:
      'Every configuration, enabled or not, with its live key versions; secrets and initial passwords are masked.',
  })
  @ApiOkResponse({
    description: 'Every configuration, secrets masked',
    type: TokenConfigListResponseDto,
  })
  async list(): Promise<TokenConfigListResponseDto> {
    return { success: true, data: await this.configs.list() };
  }

  @Get('content')
  @ApiOperation({
    operationId: 'getConfiguration',
    summary: 'One token configuration (secret masked)',
    description:
      'The configuration called name, as list shows it: its live key versions, who created it and when, secret masked.',
  })
  @ApiOkResponse({
    description: 'The configuration, its fields at the top level beside success',
    type: TokenConfigContentResponseDto,
  })
  @ApiErrors(CONFIG_NAME_INVALID, 404)
  async content(@Query() query: TokenConfigNameDto): Promise<TokenConfigContentResponseDto> {
    return { success: true, ...(await this.configs.content(query.name)) };
  }

  @Post('delete')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'deleteConfiguration',
    summary: 'Delete a token configuration; its tokens stop working at once',
    description:
      'Removes the configuration called name, on every instance; the deletion is audited.',
  })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiOkResponse({
    description: 'The configuration is deleted and its tokens are refused from now on',
    type: SuccessMsgResponseDto,
  })
  @ApiErrors(CONFIG_NAME_INVALID, 404, 413, 415)
  async delete(
    @Body() dto: TokenConfigNameDto,
    @Req() request: HttpRequest,
  ): Promise<SuccessMsgResponseDto> {
    await this.configs.delete(dto.name, this.principals.actor(request));
    return { success: true };
  }

  @Post('deleteBatch')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'deleteConfigurations',
    summary: 'Delete several configurations in one transaction, skipping names that do not exist',
    description:
      'The body is a JSON array of configuration names. All of them are deleted together or none is; each deletion is audited.',
  })
  @ApiBody({ schema: { type: 'array', items: { type: 'string' }, example: ['ERP', 'CRM'] } })
  @ApiOkResponse({
    description: 'The named configurations that existed are deleted',
    type: SuccessMsgResponseDto,
  })
  @ApiErrors(invalidField('body', 'must be a JSON array of configuration names'), 413, 415)
  async deleteBatch(
    @Body(ConfigNameListPipe) names: string[],
    @Req() request: HttpRequest,
  ): Promise<SuccessMsgResponseDto> {
    await this.configs.deleteBatch(names, this.principals.actor(request));
    return { success: true, msg: 'success' };
  }

  @Post('rotate')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rotateKey',
    summary: "Rotate a configuration's key, the previous one verifying for an overlap",
    description:
      'Issuer-held: secret is the new key; during the overlap generate accepts either secret and signs with the new one. ' +
      'Service-held: the service makes the next key pair, publishes it in /.well-known/jwks.json and signs with it from signsFrom (JWKS_MAX_AGE later). ' +
      'The previous version keeps verifying until previous.retires, on every instance. ' +
      `A configuration has at most ${MAX_LIVE_KEY_VERSIONS} live key versions: a rotation that would make one more answers 409 and changes nothing.`,
  })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiOkResponse({
    description:
      'The new key version, when it signs from, and until when the previous one verifies',
    type: RotateKeyResponseDto,
  })
  @ApiErrors(CONFIG_NAME_INVALID, 404, TOO_MANY_KEY_VERSIONS, 413, 415)
  rotate(@Body() dto: RotateKeyDto, @Req() request: HttpRequest): Promise<RotateKeyResponseDto> {
    return this.keys.rotate(dto, this.principals.actor(request));
  }

  @Post('retire')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'retireKey',
    summary: "End a rotation's overlap at once (a leaked key)",
    description:
      'Tokens of the previous key versions are refused from now on, on every instance (401 when presented, active:false at verify); their secrets no longer mint.',
  })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiOkResponse({
    description: 'The key versions retired (none when no overlap was running)',
    type: RetireKeyResponseDto,
  })
  @ApiErrors(CONFIG_NAME_INVALID, 404, 413, 415)
  async retire(
    @Body() dto: RetireKeyDto,
    @Req() request: HttpRequest,
  ): Promise<RetireKeyResponseDto> {
    return {
      success: true,
      retired: await this.keys.retire(dto.name, this.principals.actor(request)),
    };
  }

  @Post('revoke')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'revokeTokens',
    summary: 'Revoke one token (jti) or every token of a configuration issued before an instant',
    description:
      'Either {"jti": "..."} or {"name": "ERP", "before": <epoch seconds, default now>}. Takes effect on the next request.',
  })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiOkResponse({
    description: 'The token, or the tokens issued before the instant, are refused from now on',
    type: SuccessMsgResponseDto,
  })
  @ApiErrors(invalidField('body', 'must give either jti or name'), 404, 413, 415)
  async revoke(
    @Body() dto: RevokeTokenDto,
    @Req() request: HttpRequest,
  ): Promise<SuccessMsgResponseDto> {
    await this.revocations.revoke(dto, this.principals.actor(request));
    return { success: true, msg: 'success' };
  }

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'verifyToken',
    summary: 'Introspect a token (RFC 7662 style)',
    description:
      'Answers active:true with its configuration, user, exp and jti, or active:false with the reason; never an error status for a bad token.',
  })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiOkResponse({
    description: 'What the token is: active, or not and why',
    type: VerifyTokenResponseDto,
  })
  @ApiErrors(invalidField('token', 'must be a non-empty string'), 413, 415)
  verify(@Body() dto: VerifyTokenDto): Promise<VerifyTokenResponseDto> {
    return this.revocations.introspect(dto.token);
  }
}

import { Controller, Get, Res, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';
import { ApiErrors, WRONG_CREDENTIALS } from '../common/http/api-errors.decorator';
import { ApiPublic } from '../common/http/openapi';
import { JwksDto } from './dto/jwks.dto';
import { TokenKeyService } from './token-key.service';

/** What the route sets on the reply: a header (Fastify's reply and Express's response both have it). */
interface ReplyHeaders {
  header(name: string, value: string): unknown;
}

/**
 * `GET /.well-known/jwks.json`, public: the keys a report server needs to verify the tokens of
 * service-held configurations, with no shared secret (Grafana's `jwk_set_url`, jose's
 * createRemoteJWKSet).
 */
@ApiTags('token')
@ApiPublic()
@ApiErrors(WRONG_CREDENTIALS, 429, 500, 503)
@Controller('.well-known')
@UseFilters(EnvelopeExceptionFilter)
export class JwksController {
  constructor(private readonly keys: TokenKeyService) {}

  @Get('jwks.json')
  @ApiOperation({
    operationId: 'getJwks',
    summary: 'The public keys of service-held configurations (JWK Set)',
    description:
      'Every live key version of every enabled service-held (RS*/ES*) configuration, including a rotated key that does not sign yet. ' +
      "Cacheable for JWKS_MAX_AGE seconds: a rotated key is published that long before it signs. HMAC secrets and issuers' keys never appear.",
  })
  @ApiOkResponse({
    description: 'The JWK Set (RFC 7517); empty keys when no service-held configuration is enabled',
    type: JwksDto,
  })
  async jwks(@Res({ passthrough: true }) reply: ReplyHeaders): Promise<JwksDto> {
    const set = await this.keys.jwks();
    // Only on a set: an error answer must not be cached.
    reply.header('cache-control', `public, max-age=${this.keys.jwksMaxAge}`);
    return set;
  }
}

import { Controller, Get, UseFilters } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Readiness } from './readiness';
import { NoRateLimit } from '../../common/http/no-rate-limit.decorator';
import {
  ApiErrors,
  CREDENTIALS_UNCHECKED,
  SIGN_IN_THROTTLED,
  WRONG_CREDENTIALS,
} from '../../common/http/api-errors.decorator';
import { ApiPublic } from '../../common/http/openapi';
import { EnvelopeExceptionFilter } from '../../common/filters/envelope-exception.filter';
import { outOfSpace } from '../database/storage-space';

/** One check of a readiness answer, as Terminus reports it (the database's with its ping time). */
const INDICATOR = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['up', 'down'] },
    responseTime: { type: 'number', description: 'Milliseconds the ping took' },
  },
  additionalProperties: true,
};
const INDICATORS = { type: 'object', additionalProperties: INDICATOR };

/** The ready answer of Terminus: every check under details, the passing ones under info. */
const READY_SCHEMA = {
  type: 'object',
  required: ['status', 'info', 'error', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    info: INDICATORS,
    error: INDICATORS,
    details: INDICATORS,
  },
  example: {
    status: 'ok',
    info: {
      lifecycle: { status: 'up' },
      database: { status: 'up', responseTime: 1 },
      storage: { status: 'up' },
    },
    error: {},
    details: {
      lifecycle: { status: 'up' },
      database: { status: 'up', responseTime: 1 },
      storage: { status: 'up' },
    },
  },
};

@ApiTags('health')
@ApiPublic()
// Public, yet credentials sent are checked (and throttled) like anywhere else.
@ApiErrors(WRONG_CREDENTIALS, SIGN_IN_THROTTLED, 500)
@Controller('health')
@UseFilters(EnvelopeExceptionFilter)
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
    private readonly dataSource: DataSource,
  ) {}

  @Get('live')
  @NoRateLimit()
  @ApiOperation({
    operationId: 'getLiveness',
    summary: 'The process answers',
    description:
      'For a liveness probe: answers as long as the process serves requests, whatever the state of the database.',
  })
  @ApiOkResponse({
    description: 'The process is alive',
    schema: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['ok'] } },
      example: { status: 'ok' },
    },
  })
  @ApiErrors(CREDENTIALS_UNCHECKED)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @NoRateLimit()
  // Terminus documents its own 503 body; the envelope filter answers this one.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOkResponse({
    description: 'Ready: the lifecycle, the database and its storage are up',
    schema: READY_SCHEMA,
  })
  @ApiErrors({
    status: 503,
    description:
      'Not ready: the database does not answer or has no room for writes, or shutdown has begun; also when credentials were sent and could not be checked',
    msg: 'Service Unavailable Exception',
  })
  @ApiOperation({
    operationId: 'getReadiness',
    summary:
      'Ready once the database answers and has room for writes, until shutdown begins (503 otherwise)',
    description:
      'For a readiness probe or a load balancer: checks the lifecycle, a database ping (1.5 s at most) and the room left ' +
      'for writes, and is never cached. A shutdown turns it to 503 at once, SHUTDOWN_DRAIN seconds before the server closes.',
  })
  ready() {
    return this.health.check([
      () => {
        const indicator = this.indicators.check('lifecycle');
        return this.readiness.accepting
          ? indicator.up()
          : indicator.down({ reason: 'shutting down' });
      },
      () => this.database.pingCheck('database', { timeout: 1500 }),
      async () => {
        const indicator = this.indicators.check('storage');
        const full = await outOfSpace(this.dataSource);
        return full ? indicator.down({ reason: full }) : indicator.up();
      },
    ]);
  }
}

import { Controller, Get, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Readiness } from './readiness';
import { NoRateLimit } from '../common/http/rate-limit';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';

@ApiTags('health')
@Controller('health')
@UseFilters(EnvelopeExceptionFilter)
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
  ) {}

  @Get('live')
  @NoRateLimit()
  @ApiOperation({ summary: 'The process answers' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @NoRateLimit()
  @HealthCheck()
  @ApiOperation({
    summary: 'Ready once the database answers, until shutdown begins (503 otherwise)',
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
    ]);
  }
}

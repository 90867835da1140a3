import { Global, Module } from '@nestjs/common';
import { MetricsModule } from '../../metrics/metrics.module';
import { RedisConnection } from './redis-connection';

@Global()
@Module({ imports: [MetricsModule], providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}

import { Module } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/**
 * The app's metrics registry. Feature modules import it to count what they do; the standalone
 * service serves it at /metrics (metrics-endpoint.ts), and a host app may serve `registry` itself.
 */
@Module({
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}

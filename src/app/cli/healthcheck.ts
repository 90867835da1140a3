import { settingsConfig } from '../../config/settings.config';
import { readinessUrl } from '../health/readiness-url';

/**
 * The image's HEALTHCHECK (Containerfile): exits 0 when the service, at the address and port its
 * settings make it listen on, answers `GET /health/ready` with a 2xx; 1 otherwise, or after 4 s
 * without an answer (within the HEALTHCHECK's own timeout).
 */
fetch(readinessUrl(settingsConfig()), { signal: AbortSignal.timeout(4000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);

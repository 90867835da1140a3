/**
 * The load generator, run in a child process (forked by run.ts) so that autocannon does not share
 * an event loop or a core with the servers it measures. It answers each `LoadRequest` message
 * with `{ result: LoadResult }`.
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** POST only. */
  body?: string;
  /** Each `[<id>]` in the body becomes a fresh random id on every request. */
  idReplacement?: boolean;
  connections: number;
  /** Seconds. */
  duration: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  latencyP50: number;
  latencyP99: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Answers per status code, e.g. { "200": 20000, "429": 3 }. */
  statusCodes: Record<string, number>;
}

async function measure(request: LoadRequest): Promise<LoadResult> {
  const result = await autocannon({
    url: request.url,
    method: request.method,
    headers: request.headers,
    body: request.body,
    idReplacement: request.idReplacement,
    connections: request.connections,
    duration: request.duration,
    timeout: 10,
  });
  return {
    requestsPerSecond: result.requests.average,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]),
    ),
  };
}

process.on('message', (request: LoadRequest) => {
  measure(request).then(
    (result) => process.send?.({ result }),
    (error: Error) => process.send?.({ error: `autocannon failed: ${error.message}` }),
  );
});
// The parent went away (finished or crashed): so does this process.
process.on('disconnect', () => process.exit(0));

/**
 * `npm run bench`: throughput and p99 latency of POST /token/generate with Basic auth, side by side
 * with a bare Fastify route that parses the same body and signs the same claims (baseline.ts).
 * The service runs in this process, the baseline and autocannon (load.ts) in child processes, all
 * on 127.0.0.1. The two sides alternate (baseline, service, baseline, service, ...) and each
 * side's best round counts. Fails (exit 1) on any non-2xx answer or connection error, or when
 * service/baseline requests/s is below MIN_RATIO.
 * Each line also shows the CPU time the server's process spent per answered request, a figure
 * that other work on the machine disturbs less than requests/s.
 *
 * Environment: BENCH_DURATION (seconds per round, default 10), BENCH_CONNECTIONS (16),
 * BENCH_ROUNDS (2), BENCH_LOG_LEVEL (the service's LOG_LEVEL, default warn; with info, every
 * request's log line is written to /dev/null).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyHmacToken } from '../test/support/jwt';
import type { BaselineConfig, BaselineStart } from './baseline';
import { ask, forkTs, stop } from './child';
import type { LoadRequest, LoadResult } from './load';
import { ADMIN, basic, type RunningService, startService } from './service';

const MIN_RATIO = 0.6;
const TOKEN_API = '/plugin/datafor-modeler/api/token';
const GENERATE = `${TOKEN_API}/generate`;

function intFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const DURATION = intFromEnv('BENCH_DURATION', 10);
const CONNECTIONS = intFromEnv('BENCH_CONNECTIONS', 16);
const ROUNDS = intFromEnv('BENCH_ROUNDS', 2);
const WARMUP = Math.min(3, DURATION);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';

const SECRET = randomBytes(32).toString('base64url');
const BODY = JSON.stringify({
  name: 'ERP',
  privateKey: SECRET,
  payload: {
    username: 'bench-user',
    name: 'Bench',
    email: 'b@example.com',
    roles: ['Manager'],
    dept: 'Ops',
  },
});
const HEADERS = {
  'content-type': 'application/json',
  authorization: basic(ADMIN.username, ADMIN.password),
};

/** A server under test: where to send the load, and how much CPU its process has used so far. */
interface Target {
  name: 'baseline' | 'service';
  url: string;
  cpuUsage(): Promise<NodeJS.CpuUsage>;
}

interface Measured extends LoadResult {
  cpuUsPerRequest: number;
}

/** One autocannon run against the target, plus the CPU its process spent per answered request. */
async function measure(load: ChildProcess, target: Target, duration: number): Promise<Measured> {
  const request: LoadRequest = {
    url: target.url,
    headers: HEADERS,
    body: BODY,
    connections: CONNECTIONS,
    duration,
  };
  const before = await target.cpuUsage();
  const { result } = await ask<{ result: LoadResult }>(load, request);
  const after = await target.cpuUsage();
  const cpuUs = after.user - before.user + after.system - before.system;
  return { ...result, cpuUsPerRequest: cpuUs / Math.max(1, result.requests) };
}

async function post(url: string, body: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', headers: HEADERS, body });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200)
    throw new Error(`${url} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Creates the configuration the load mints with, and answers what the baseline needs of it. */
async function configure(service: RunningService): Promise<BaselineConfig> {
  const config = JSON.stringify({ name: 'ERP', secret: SECRET, enable: '1' });
  await post(`${service.origin}${TOKEN_API}/update`, config);
  const response = await fetch(`${service.origin}${TOKEN_API}/content?name=ERP`, {
    headers: { authorization: HEADERS.authorization },
  });
  const content = (await response.json()) as Pick<BaselineConfig, 'expire' | 'fieldmap'>;
  return { name: 'ERP', secret: SECRET, expire: content.expire, fieldmap: content.fieldmap };
}

/** Both servers answer the load's body with a valid token of the same header and claim names. */
async function checkSameWork(targets: Target[]): Promise<void> {
  const shapes = [];
  for (const target of targets) {
    const answer = await post(target.url, BODY);
    const { header, claims } = verifyHmacToken(String(answer.token), SECRET, 'HS256');
    shapes.push(
      JSON.stringify({
        answer: Object.keys(answer).sort(),
        header: Object.keys(header).sort(),
        claims: Object.keys(claims).sort(),
      }),
    );
  }
  if (new Set(shapes).size !== 1)
    throw new Error(`the baseline does not do the service's work:\n${shapes.join('\n')}`);
}

const format = (label: string, r: Measured) =>
  `${label.padEnd(9)} ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s   ` +
  `p50 ${String(r.latencyP50).padStart(3)} ms   p99 ${String(r.latencyP99).padStart(3)} ms   ` +
  `server CPU ${r.cpuUsPerRequest.toFixed(0).padStart(4)} us/req   requests ${r.requests}   ` +
  `non-2xx ${r.non2xx}   errors ${r.errors}   timeouts ${r.timeouts}` +
  (r.non2xx > 0 ? `   status codes ${JSON.stringify(r.statusCodes)}` : '');

const best = (results: Measured[]) =>
  results.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));

async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datafor-bench-'));
  const load = forkTs('load.ts');
  const baselineProcess = forkTs('baseline.ts');
  let service: RunningService | undefined;
  const cleanUp = async () => {
    stop(load);
    stop(baselineProcess);
    await service?.app.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  // Bounded in time whatever happens: rounds, warm-ups and two minutes of slack.
  const budget = (2 * ROUNDS * DURATION + 2 * WARMUP + 120) * 1000;
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${budget / 1000} s, giving up`);
    void cleanUp().finally(() => process.exit(2));
  }, budget);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

  try {
    service = await startService(dataDir, LOG_LEVEL);
    const start: BaselineStart = { config: await configure(service), path: GENERATE };
    const { port } = await ask<{ port: number }>(baselineProcess, start);
    const targets: Target[] = [
      {
        name: 'baseline',
        url: `http://127.0.0.1:${port}${GENERATE}`,
        cpuUsage: async () => (await ask<{ cpu: NodeJS.CpuUsage }>(baselineProcess, 'cpu')).cpu,
      },
      {
        name: 'service',
        url: `${service.origin}${GENERATE}`,
        cpuUsage: async () => process.cpuUsage(),
      },
    ];
    await checkSameWork(targets);

    console.log(
      `bench: POST ${GENERATE}, ${CONNECTIONS} connections, ${ROUNDS} x ${DURATION} s per side ` +
        `(after ${WARMUP} s warm-up each), service LOG_LEVEL=${LOG_LEVEL}, node ${process.version}`,
    );
    for (const target of targets) await measure(load, target, WARMUP);

    const runs: Record<Target['name'], Measured[]> = { baseline: [], service: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of targets) {
        const result = await measure(load, target, DURATION);
        runs[target.name].push(result);
        console.log(format(target.name, result), `  (round ${round})`);
      }
    }

    const floor = best(runs.baseline);
    const ours = best(runs.service);
    const ratio = ours.requestsPerSecond / floor.requestsPerSecond;
    const failures = [...runs.baseline, ...runs.service].reduce(
      (sum, r) => sum + r.non2xx + r.errors + r.timeouts,
      0,
    );
    const pass = failures === 0 && ratio >= MIN_RATIO;
    console.log('best round of each:');
    console.log(format('baseline', floor));
    console.log(format('service', ours));
    console.log(
      `ratio service/baseline: ${ratio.toFixed(3)} (must be >= ${MIN_RATIO})` +
        (failures > 0 ? `; ${failures} non-2xx answers or errors` : '') +
        ` -> ${pass ? 'PASS' : 'FAIL'}`,
    );
    const summary = (r: Measured) => ({
      requestsPerSecond: Math.round(r.requestsPerSecond),
      p99Ms: r.latencyP99,
      cpuUsPerRequest: Math.round(r.cpuUsPerRequest),
    });
    console.log(
      JSON.stringify({
        bench: 'token-generate',
        connections: CONNECTIONS,
        durationS: DURATION,
        rounds: ROUNDS,
        logLevel: LOG_LEVEL,
        baseline: summary(floor),
        service: summary(ours),
        ratio: Number(ratio.toFixed(3)),
        minRatio: MIN_RATIO,
        failures,
        pass,
      }),
    );
    return pass ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`bench: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);

/**
 * `npm run bench`: throughput and p99 latency of the service, each scenario side by side with what
 * it is compared with. Scenarios (BENCH_SCENARIOS, comma-separated, default all three):
 * - generate: POST /token/generate with Basic auth, against a bare Fastify route that parses the
 *   same body and signs the same claims (baseline.ts);
 * - verify: GET /user/detail with a Bearer token minted by the service, against a bare Fastify
 *   route that verifies the same token with a cached key and answers its username (baseline.ts);
 * - audit: POST /token/generate on the service as is, against the same service with
 *   AuditService.record replaced by a no-op during that side's rounds only (the cost of the audit
 *   trail; issue 4: writing it must not halve the mint throughput);
 * - propagation: 200 changes made on one instance, p50 and p99 of the delay until another refuses
 *   (propagation.ts; needs PostgreSQL, and Redis for its Redis side). Fails when a change is not
 *   seen within 5 s.
 * The service runs in this process, the baseline and autocannon (load.ts) in child processes, all
 * on 127.0.0.1. All sides alternate (round 1: each side once, round 2: each side once, ...) and
 * each side's best round counts; with generate and audit both chosen, their "service" side is the
 * same measurement. Fails (exit 1) on any non-2xx answer, connection error or timeout, or when
 * service/baseline requests/s of generate or verify is below MIN_RATIO (the ratio of the audit
 * scenario is reported, not enforced).
 * Each line also shows the CPU time the server's process spent per answered request, a figure
 * that other work on the machine disturbs less than requests/s.
 *
 * Environment: BENCH_SCENARIOS (generate,verify,audit,propagation), BENCH_DURATION (seconds per round,
 * default 10), BENCH_CONNECTIONS (16), BENCH_ROUNDS (2), BENCH_LOG_LEVEL (the service's
 * LOG_LEVEL, default warn; with info, every request's log line is written to /dev/null).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditService } from '../src/audit/audit.service';
import { verifyHmacToken } from '../test/support/jwt';
import type { BaselineConfig, BaselineStart } from './baseline';
import { ask, forkTs, stop } from './child';
import type { LoadRequest, LoadResult } from './load';
import { benchPropagation } from './propagation';
import { ADMIN, basic, type RunningService, startService } from './service';

const MIN_RATIO = 0.6;
/** Issue 4: the audit trail must not halve the mint throughput. Reported, not enforced. */
const AUDIT_TARGET = 0.5;
const API = '/plugin/datafor-modeler/api';
const TOKEN_API = `${API}/token`;
const GENERATE = `${TOKEN_API}/generate`;
const USER_DETAIL = `${API}/user/detail`;
const USERNAME = 'bench-user';

function intFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const SCENARIO_NAMES = ['generate', 'verify', 'audit', 'propagation'] as const;
type Scenario = (typeof SCENARIO_NAMES)[number];

function scenariosFromEnv(): Set<Scenario> {
  const names = (process.env.BENCH_SCENARIOS ?? SCENARIO_NAMES.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(SCENARIO_NAMES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0)
    throw new Error(`BENCH_SCENARIOS must list some of ${SCENARIO_NAMES.join(',')}`);
  return new Set(names as Scenario[]);
}

const SCENARIOS = scenariosFromEnv();
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
    username: USERNAME,
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

type SideName =
  | 'generateBaseline'
  | 'generateService'
  | 'generateServiceNoAudit'
  | 'verifyBaseline'
  | 'verifyService';

/** A server under test, with the request the load sends it. */
interface Side {
  name: SideName;
  label: string;
  request: Omit<LoadRequest, 'connections' | 'duration'>;
  /** How much CPU the server's process has used so far. */
  cpuUsage(): Promise<NodeJS.CpuUsage>;
  /** Wraps everything sent to this side (checks and measurements), e.g. to switch the audit off. */
  around?<T>(work: () => Promise<T>): Promise<T>;
}

interface Measured extends LoadResult {
  cpuUsPerRequest: number;
}

/** One autocannon run against the side, plus the CPU its process spent per answered request. */
async function measure(load: ChildProcess, side: Side, duration: number): Promise<Measured> {
  const run = async () => {
    const request: LoadRequest = { ...side.request, connections: CONNECTIONS, duration };
    const before = await side.cpuUsage();
    const { result } = await ask<{ result: LoadResult }>(load, request);
    const after = await side.cpuUsage();
    const cpuUs = after.user - before.user + after.system - before.system;
    return { ...result, cpuUsPerRequest: cpuUs / Math.max(1, result.requests) };
  };
  return side.around ? side.around(run) : run();
}

/** The one answer to the side's request, which must be a 200. */
async function send(side: Side): Promise<Record<string, unknown>> {
  const { url, method, headers, body } = side.request;
  const response = await fetch(url, { method, headers, body });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200)
    throw new Error(`${side.label}: ${url} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
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

/** The generate sides answer the load's body with a valid token of the same header and claim names. */
async function checkSameMint(sides: Side[]): Promise<void> {
  const shapes = [];
  for (const side of sides) {
    const answer = await (side.around ? side.around(() => send(side)) : send(side));
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
    throw new Error(`the generate sides do not do the same work:\n${shapes.join('\n')}`);
}

/** The verify sides accept the token and answer the same user. */
async function checkSameUser(sides: Side[]): Promise<void> {
  const users = [];
  for (const side of sides) {
    const answer = (await send(side)) as {
      success?: unknown;
      data?: { user?: { username?: unknown } };
    };
    users.push(JSON.stringify({ success: answer.success, username: answer.data?.user?.username }));
  }
  const expected = JSON.stringify({ success: true, username: USERNAME });
  if (users.some((user) => user !== expected))
    throw new Error(`the verify sides do not answer ${expected}:\n${users.join('\n')}`);
}

/**
 * The same service with AuditService.record a no-op, only while `around` runs: callers reach the
 * instance's own property before the prototype's method, which is all that is there again after.
 */
function auditSwitchedOff(audit: AuditService) {
  let skipped = 0;
  const noop: AuditService['record'] = () => {
    skipped++;
    return Promise.resolve();
  };
  return {
    skipped: () => skipped,
    async around<T>(work: () => Promise<T>): Promise<T> {
      const own = Object.getOwnPropertyDescriptor(audit, 'record');
      audit.record = noop;
      try {
        return await work();
      } finally {
        if (own) Object.defineProperty(audit, 'record', own);
        else Reflect.deleteProperty(audit, 'record');
      }
    },
  };
}

const LABEL_WIDTH = 27;

const format = (label: string, r: Measured) =>
  `${label.padEnd(LABEL_WIDTH)} ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s   ` +
  `p50 ${String(r.latencyP50).padStart(3)} ms   p99 ${String(r.latencyP99).padStart(3)} ms   ` +
  `server CPU ${r.cpuUsPerRequest.toFixed(0).padStart(4)} us/req   requests ${r.requests}   ` +
  `non-2xx ${r.non2xx}   errors ${r.errors}   timeouts ${r.timeouts}` +
  (r.non2xx > 0 ? `   status codes ${JSON.stringify(r.statusCodes)}` : '');

const best = (results: Measured[]) =>
  results.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));

const summary = (r: Measured) => ({
  requestsPerSecond: Math.round(r.requestsPerSecond),
  p99Ms: r.latencyP99,
  cpuUsPerRequest: Math.round(r.cpuUsPerRequest),
});

const round3 = (value: number) => Number(value.toFixed(3));

async function main(): Promise<number> {
  let propagationMissed = 0;
  if (SCENARIOS.has('propagation')) {
    const results = await benchPropagation();
    propagationMissed = results.reduce((sum, result) => sum + result.missed, 0);
    console.log(JSON.stringify({ propagation: results }));
    if (!['generate', 'verify', 'audit'].some((name) => SCENARIOS.has(name as Scenario)))
      return propagationMissed === 0 ? 0 : 1;
  }
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
  // Bounded in time whatever happens: each side's rounds and warm-up, and two minutes of slack.
  const sideCount =
    (SCENARIOS.has('generate') ? 2 : 0) +
    (SCENARIOS.has('audit') ? (SCENARIOS.has('generate') ? 1 : 2) : 0) +
    (SCENARIOS.has('verify') ? 2 : 0);
  const budget = (sideCount * (ROUNDS * DURATION + WARMUP) + 120) * 1000;
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${budget / 1000} s, giving up`);
    void cleanUp().finally(() => process.exit(2));
  }, budget);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

  try {
    service = await startService(dataDir, LOG_LEVEL);
    const start: BaselineStart = {
      config: await configure(service),
      path: GENERATE,
      verifyPath: USER_DETAIL,
    };
    const { port } = await ask<{ port: number }>(baselineProcess, start);
    const baselineOrigin = `http://127.0.0.1:${port}`;
    const baselineCpu = async () =>
      (await ask<{ cpu: NodeJS.CpuUsage }>(baselineProcess, 'cpu')).cpu;
    const serviceCpu = async () => process.cpuUsage();
    const mint = { method: 'POST', headers: HEADERS, body: BODY } as const;
    const noAudit = auditSwitchedOff(service.app.get(AuditService));

    // The mint sides: the first mint creates the user the verify token names.
    const generateSides: Side[] = [];
    if (SCENARIOS.has('generate'))
      generateSides.push({
        name: 'generateBaseline',
        label: 'generate  baseline',
        request: { ...mint, url: `${baselineOrigin}${GENERATE}` },
        cpuUsage: baselineCpu,
      });
    generateSides.push({
      name: 'generateService',
      label: 'generate  service',
      request: { ...mint, url: `${service.origin}${GENERATE}` },
      cpuUsage: serviceCpu,
    });
    if (SCENARIOS.has('audit'))
      generateSides.push({
        name: 'generateServiceNoAudit',
        label: 'generate  service, no audit',
        request: { ...mint, url: `${service.origin}${GENERATE}` },
        cpuUsage: serviceCpu,
        around: noAudit.around,
      });
    await checkSameMint(generateSides);
    if (SCENARIOS.has('audit') && noAudit.skipped() === 0)
      throw new Error('the no-audit side minted without reaching the no-op AuditService.record');
    const sides = SCENARIOS.has('generate') || SCENARIOS.has('audit') ? [...generateSides] : [];

    if (SCENARIOS.has('verify')) {
      const token = String((await post(`${service.origin}${GENERATE}`, BODY)).token);
      const bearer = { method: 'GET', headers: { authorization: `Bearer ${token}` } } as const;
      const verifySides: Side[] = [
        {
          name: 'verifyBaseline',
          label: 'verify    baseline',
          request: { ...bearer, url: `${baselineOrigin}${USER_DETAIL}` },
          cpuUsage: baselineCpu,
        },
        {
          name: 'verifyService',
          label: 'verify    service',
          request: { ...bearer, url: `${service.origin}${USER_DETAIL}` },
          cpuUsage: serviceCpu,
        },
      ];
      await checkSameUser(verifySides);
      sides.push(...verifySides);
    }

    console.log(
      `bench: ${[...SCENARIOS].join(', ')}; ${CONNECTIONS} connections, ${ROUNDS} x ${DURATION} s ` +
        `per side (after ${WARMUP} s warm-up each), service LOG_LEVEL=${LOG_LEVEL}, node ${process.version}`,
    );
    if (SCENARIOS.has('generate') || SCENARIOS.has('audit'))
      console.log(`  generate: POST ${GENERATE} (Basic auth)`);
    if (SCENARIOS.has('verify'))
      console.log(`  verify:   GET ${USER_DETAIL} (Bearer token of ${USERNAME})`);
    if (SCENARIOS.has('audit'))
      console.log('  audit:    generate on the service with AuditService.record a no-op');
    for (const side of sides) await measure(load, side, WARMUP);

    const runs = new Map<SideName, Measured[]>(sides.map((side) => [side.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of sides) {
        const result = await measure(load, side, DURATION);
        runs.get(side.name)?.push(result);
        console.log(format(side.label, result), `  (round ${round})`);
      }
    }

    const failures = [...runs.values()]
      .flat()
      .reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0);
    const bestOf = new Map(sides.map((side) => [side.name, best(runs.get(side.name) ?? [])]));
    const get = (name: SideName) => bestOf.get(name) as Measured;
    const ratioOf = (ours: SideName, floor: SideName) =>
      get(ours).requestsPerSecond / get(floor).requestsPerSecond;

    console.log('best round of each:');
    for (const side of sides) console.log(format(side.label, get(side.name)));

    const json: Record<string, unknown> = {
      bench: 'token-generate',
      scenarios: [...SCENARIOS],
      connections: CONNECTIONS,
      durationS: DURATION,
      rounds: ROUNDS,
      logLevel: LOG_LEVEL,
    };
    let ratiosMet = true;
    for (const scenario of ['generate', 'verify'] as const) {
      if (!SCENARIOS.has(scenario)) continue;
      const baselineName: SideName = `${scenario}Baseline`;
      const serviceName: SideName = `${scenario}Service`;
      const ratio = ratioOf(serviceName, baselineName);
      ratiosMet &&= ratio >= MIN_RATIO;
      console.log(
        `${scenario}: ratio service/baseline ${ratio.toFixed(3)} (must be >= ${MIN_RATIO}) ` +
          `-> ${ratio >= MIN_RATIO ? 'met' : 'NOT met'}`,
      );
      const result = {
        baseline: summary(get(baselineName)),
        service: summary(get(serviceName)),
        ratio: round3(ratio),
        minRatio: MIN_RATIO,
      };
      // The summary's original fields, for generate.
      if (scenario === 'generate') Object.assign(json, result);
      json[scenario] = result;
    }
    if (SCENARIOS.has('audit')) {
      const ratio = ratioOf('generateService', 'generateServiceNoAudit');
      console.log(
        `audit: ratio service/service-no-audit ${ratio.toFixed(3)} ` +
          `(issue 4: the audit trail must not halve the mint throughput, >= ${AUDIT_TARGET}; ` +
          `reported, not in the exit code) -> ${ratio >= AUDIT_TARGET ? 'met' : 'NOT met'}; ` +
          `${noAudit.skipped()} audit records skipped on the no-audit side`,
      );
      json.audit = {
        withAudit: summary(get('generateService')),
        withoutAudit: summary(get('generateServiceNoAudit')),
        ratio: round3(ratio),
      };
    }
    const pass = failures === 0 && ratiosMet && propagationMissed === 0;
    console.log(
      (failures > 0 ? `${failures} non-2xx answers, errors or timeouts; ` : 'no failed request; ') +
        `-> ${pass ? 'PASS' : 'FAIL'}`,
    );
    console.log(JSON.stringify({ ...json, failures, pass }));
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

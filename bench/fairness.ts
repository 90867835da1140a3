/**
 * The fairness scenario of `npm run bench` (issue 17, point 9): on SQLite, mints (each awaits its
 * audit row, which the audit writer's thread commits) beside admin writes (POST /token/revoke,
 * each a transaction of the shared connection), which both go through SqliteWriteGate. A service
 * of its own on a fresh DATA_DIR; MINTERS connections mint alone, then beside 4 and then 8
 * connections revoking back to back (a fresh jti each), in alternating rounds, each figure the
 * median of the rounds. The goal: beside 8 writers, mints keep at least half their solo rate, with
 * a p99 under 250 ms. The writers' own rate is reported too (the turns must be fair both ways).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKEN_API } from '../test/support/api-paths';
import { ask, forkTs, stop } from './child';
import { ADMIN, basic } from './credentials';
import type { LoadRequest, LoadResult } from './load';
import type { ServiceStart } from './service';

const MINTERS = 4;
export const FAIRNESS_WRITERS = [4, 8] as const;
export const FAIRNESS_GOAL = { ratio: 0.5, p99Ms: 250 } as const;
/** The writers start this long before the mint load, and end this long after it. */
const RAMP_S = 1;

export interface FairnessOptions {
  rounds: number;
  /** Seconds of mint load per round and side. */
  duration: number;
  warmup: number;
  logLevel: string;
}

interface SideResult {
  writers: number;
  mint: LoadResult;
  /** The admin writers' load, beside the mints (none when alone). */
  admin?: LoadResult;
}

export interface FairnessSummary {
  writers: number;
  mintRequestsPerSecond: number;
  mintP99Ms: number;
  adminRequestsPerSecond?: number;
  adminP99Ms?: number;
  /** Mint req/s beside the writers / alone. */
  ratio: number;
}

const medianOf = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const failuresOf = (r: LoadResult | undefined) => (r ? r.non2xx + r.errors + r.timeouts : 0);

const line = (label: string, r: LoadResult) =>
  `${label} ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s   p99 ` +
  `${String(r.latencyP99).padStart(4)} ms   requests ${r.requests}   non-2xx ${r.non2xx}   ` +
  `errors ${r.errors}   timeouts ${r.timeouts}` +
  (r.non2xx > 0 ? `   status codes ${JSON.stringify(r.statusCodes)}` : '');

async function post(url: string, authorization: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(body),
  });
  if (response.status !== 200)
    throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
}

/** Runs the scenario; answers whether every request succeeded and the goal was met. */
export async function benchFairness(options: FairnessOptions): Promise<boolean> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datafor-bench-fairness-'));
  const mintLoad = forkTs('load.ts');
  const adminLoad = forkTs('load.ts');
  const serviceProcess = forkTs('service.ts');
  try {
    const start: ServiceStart = { dataDir, logLevel: options.logLevel };
    const { port } = await ask<{ port: number }>(serviceProcess, start);
    const origin = `http://127.0.0.1:${port}`;
    const authorization = basic(ADMIN.username, ADMIN.password);
    const secret = randomBytes(32).toString('base64url');
    await post(`${origin}${TOKEN_API}/update`, authorization, {
      name: 'ERP',
      secret,
      enable: '1',
    });
    const headers = { 'content-type': 'application/json', authorization };
    const mint = (duration: number): LoadRequest => ({
      url: `${origin}${TOKEN_API}/generate`,
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'ERP',
        privateKey: secret,
        payload: { username: 'fair-user', name: 'Fair', roles: ['Manager'] },
      }),
      connections: MINTERS,
      duration,
    });
    const revoke = (connections: number, duration: number): LoadRequest => ({
      url: `${origin}${TOKEN_API}/revoke`,
      method: 'POST',
      headers,
      body: '{"jti":"bench-[<id>]"}',
      idReplacement: true,
      connections,
      duration,
    });
    // The first mint creates the user: it is not part of what is measured.
    await post(`${origin}${TOKEN_API}/generate`, authorization, JSON.parse(mint(1).body!));

    const measure = async (writers: number, duration: number): Promise<SideResult> => {
      if (writers === 0)
        return { writers, mint: (await ask<{ result: LoadResult }>(mintLoad, mint(duration))).result };
      const admin = ask<{ result: LoadResult }>(adminLoad, revoke(writers, duration + 2 * RAMP_S));
      await new Promise((resolve) => setTimeout(resolve, RAMP_S * 1000));
      const minted = await ask<{ result: LoadResult }>(mintLoad, mint(duration));
      return { writers, mint: minted.result, admin: (await admin).result };
    };

    const sides = [0, ...FAIRNESS_WRITERS];
    console.log(
      `fairness: POST ${TOKEN_API}/generate on ${MINTERS} connections, alone and beside 4 and 8 ` +
        `connections revoking back to back (POST ${TOKEN_API}/revoke, a fresh jti each); ` +
        `${options.rounds} x ${options.duration} s per side, medians of the rounds`,
    );
    for (const writers of sides) await measure(writers, options.warmup);
    const runs = new Map<number, SideResult[]>(sides.map((writers) => [writers, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const writers of sides) {
        const result = await measure(writers, options.duration);
        runs.get(writers)!.push(result);
        const label = writers === 0 ? 'mint alone' : `mint beside ${writers} writers`;
        console.log(line(label.padEnd(24), result.mint), `  (round ${round})`);
        if (result.admin) console.log(line(`  ${writers} admin writers`.padEnd(24), result.admin));
      }
    }

    const results = [...runs.values()].flat();
    const failures = results.reduce((sum, r) => sum + failuresOf(r.mint) + failuresOf(r.admin), 0);
    const medianOfSide = (writers: number, pick: (r: SideResult) => number | undefined) =>
      medianOf(runs.get(writers)!.flatMap((r) => pick(r) ?? []));
    const solo = medianOfSide(0, (r) => r.mint.requestsPerSecond);
    const summaries: FairnessSummary[] = sides.map((writers) => {
      const rate = medianOfSide(writers, (r) => r.mint.requestsPerSecond);
      return {
        writers,
        mintRequestsPerSecond: Math.round(rate),
        mintP99Ms: medianOfSide(writers, (r) => r.mint.latencyP99),
        ...(writers > 0
          ? {
              adminRequestsPerSecond: Math.round(
                medianOfSide(writers, (r) => r.admin?.requestsPerSecond),
              ),
              adminP99Ms: medianOfSide(writers, (r) => r.admin?.latencyP99),
            }
          : {}),
        ratio: Number((rate / solo).toFixed(3)),
      };
    });
    console.log(`fairness, medians of ${options.rounds} rounds:`);
    for (const s of summaries) {
      console.log(
        `  ${s.writers === 0 ? 'alone' : `beside ${s.writers} writers`}: mint ` +
          `${s.mintRequestsPerSecond} req/s, p99 ${s.mintP99Ms} ms, ${s.ratio.toFixed(3)} of alone` +
          (s.writers > 0
            ? `; writers ${s.adminRequestsPerSecond} req/s, p99 ${s.adminP99Ms} ms`
            : ''),
      );
    }
    const hardest = summaries.at(-1)!;
    const met = hardest.ratio >= FAIRNESS_GOAL.ratio && hardest.mintP99Ms < FAIRNESS_GOAL.p99Ms;
    const pass = failures === 0 && met;
    console.log(
      `fairness: beside ${hardest.writers} writers, mint ${hardest.ratio.toFixed(3)} of alone ` +
        `(goal >= ${FAIRNESS_GOAL.ratio}) and p99 ${hardest.mintP99Ms} ms (goal < ` +
        `${FAIRNESS_GOAL.p99Ms} ms) -> ${met ? 'met' : 'NOT met'}; ${failures} failed requests ` +
        `-> ${pass ? 'PASS' : 'FAIL'}`,
    );
    console.log(JSON.stringify({ fairness: summaries, failures, pass }));
    return pass;
  } finally {
    for (const child of [mintLoad, adminLoad, serviceProcess]) stop(child);
    if (serviceProcess.exitCode === null && serviceProcess.signalCode === null)
      await new Promise((exited) => serviceProcess.once('exit', exited));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

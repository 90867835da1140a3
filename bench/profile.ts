/**
 * BENCH_PROFILE=1: a CPU profile of the service's process while a load runs, written as a
 * .cpuprofile (open it in Chrome DevTools or VS Code), and its self time grouped by package. The
 * service's child process takes it (`startProfile`, `stopProfile`) and run.ts reads it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params ?? {}, (error, result) =>
      error ? reject(error) : resolve(result as T),
    ),
  );
}

let session: Session | undefined;

/** Starts the sampling profiler in this process. */
export async function startProfile(): Promise<void> {
  if (session) throw new Error('a profile is already being taken');
  session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
  await post(session, 'Profiler.start');
}

/** Stops the profiler startProfile started, and answers what it sampled. */
export async function stopProfile(): Promise<Profile> {
  if (!session) throw new Error('no profile is being taken');
  try {
    return (await post<{ profile: Profile }>(session, 'Profiler.stop')).profile;
  } finally {
    session.disconnect();
    session = undefined;
  }
}

/** Where a function's self time counts: its npm package, a folder of src/, Node itself, or V8's own. */
function groupOf({ functionName, url }: ProfileNode['callFrame']): string {
  // V8's own entries ("(garbage collector)", "(program)"), else a native function by its name.
  if (url === '') return functionName.startsWith('(') ? functionName : `native ${functionName}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return 'node (core)';
  const path = relative(process.cwd(), url.replace(/^file:\/\//, ''));
  const [top, folder] = path.split('/');
  if (top === 'src') return `service src/${folder}`;
  return top === 'bench' || top === 'test' ? 'bench harness' : 'other';
}

export interface SelfTime {
  group: string;
  ms: number;
  share: number;
}

/** Self time per group, biggest first; `share` is of all samples but idle. */
export function selfTimeByGroup(profile: Profile): SelfTime[] {
  const groupOfNode = new Map(profile.nodes.map((node) => [node.id, groupOf(node.callFrame)]));
  // The profiler's own work (stopping and serialising the profile) is no part of the service's.
  const inspector = (node: ProfileNode) => {
    if (node.callFrame.url === 'node:inspector') groupOfNode.set(node.id, '(idle)');
    for (const child of node.children ?? []) {
      if (groupOfNode.get(node.id) === '(idle)') groupOfNode.set(child, '(idle)');
      const next = byId.get(child);
      if (next) inspector(next);
    }
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  if (profile.nodes[0]) inspector(profile.nodes[0]);
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const group = groupOfNode.get(id) ?? 'other';
    totals.set(group, (totals.get(group) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  totals.delete('(idle)');
  const busy = [...totals.values()].reduce((sum, us) => sum + us, 0) || 1;
  return [...totals.entries()]
    .map(([group, us]) => ({ group, ms: us / 1000, share: us / busy }))
    .sort((a, b) => b.ms - a.ms);
}

export function writeProfile(profile: Profile, name: string): string {
  const dir = join(process.cwd(), 'artifacts', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

/** The bench's child processes (load generator, the service and the anchors): TypeScript run through ts-node. */
import { fork, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { startProfile, stopProfile } from './profile';

export function forkTs(file: string): ChildProcess {
  return fork(join(__dirname, file), [], {
    execArgv: ['--require', 'ts-node/register/transpile-only'],
    stdio: 'inherit',
  });
}

/** Sends one message and waits for the child's answer (one question at a time per child). */
export function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`a bench child exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (reply: { error?: string } & T) => {
      child.off('exit', onExit);
      if (reply.error) reject(new Error(reply.error));
      else resolve(reply);
    });
    child.send(message as object);
  });
}

export function stop(child: ChildProcess): void {
  if (child.connected) child.disconnect();
  if (child.exitCode === null && child.signalCode === null) child.kill();
}

/** What a child answers besides its start: a command's name, and the work that answers it. */
export type ChildCommands = Record<string, () => unknown>;

/**
 * The protocol of a server forked by run.ts (service.ts, plain-nest.ts, baseline.ts): the first
 * message is its start (the anchors' `BaselineStart`), answered with `{ port }`; then each 'cpu'
 * message with the process's CPU usage, 'profile-start' and 'profile-stop' (a CPU profile of the
 * process, answered by the latter), and each of `commands`, each answered with `{ result }`. The
 * server closes when run.ts disconnects.
 */
export function serveChild<Start>(
  start: (message: Start) => Promise<{ server: Server; close(): Promise<unknown> }>,
  ownCommands: ChildCommands = {},
): void {
  const commands: ChildCommands = {
    'profile-start': startProfile,
    'profile-stop': stopProfile,
    ...ownCommands,
  };
  let close: (() => Promise<unknown>) | undefined;
  process.on('message', (message: Start | string) => {
    if (message === 'cpu') {
      process.send?.({ cpu: process.cpuUsage() });
      return;
    }
    if (typeof message === 'string') {
      const command = Object.hasOwn(commands, message) ? commands[message] : undefined;
      Promise.resolve()
        .then(() => {
          if (!command) throw new Error(`no such command: ${message}`);
          return command();
        })
        .then(
          (result) => process.send?.({ result }),
          (error: Error) => process.send?.({ error: `${message} failed: ${error.message}` }),
        );
      return;
    }
    start(message).then(
      (started) => {
        close = started.close;
        const address = started.server.address();
        process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
      },
      (error: Error) => process.send?.({ error: `the server did not start: ${error.message}` }),
    );
  });
  process.on(
    'disconnect',
    () => void (close?.() ?? Promise.resolve()).finally(() => process.exit(0)),
  );
}

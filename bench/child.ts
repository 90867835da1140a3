/** The bench's child processes (load generator, baseline server): TypeScript run through ts-node. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

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

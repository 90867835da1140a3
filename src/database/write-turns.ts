import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { finalize, type Observable } from 'rxjs';
import { DataSource } from 'typeorm';

/** Admin writes waiting for their turn on one database, first come first served. */
class TurnQueue {
  private busy = false;
  private readonly waiting: (() => void)[] = [];

  /** Resolves with this request's turn; call the answer once, when the request is handled. */
  take(): Promise<() => void> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      // The next turn starts after the event loop has served what was waiting meanwhile.
      setImmediate(() => this.handOver());
    };
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve(release);
    }
    return new Promise((granted) => this.waiting.push(() => granted(release)));
  }

  private handOver(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }
}

const queues = new WeakMap<DataSource, TurnQueue>();

/**
 * Admin writes on SQLite take turns, one request at a time (validation, transaction, answer), each
 * turn beginning once the event loop has served what arrived during the last. SQLite runs one
 * write at a time anyway; what this changes is the event loop's time: a stream of admin writes
 * from many connections would otherwise take it from the mints, which a few writers could slow
 * to a third of their rate. Mints and reads never wait here. On PostgreSQL, which runs writes in
 * parallel, it lets every request through.
 */
@Injectable()
export class WriteTurns implements NestInterceptor {
  private readonly queue?: TurnQueue;

  constructor(dataSource: DataSource) {
    if (dataSource.options.type !== 'better-sqlite3') return;
    let queue = queues.get(dataSource);
    if (!queue) queues.set(dataSource, (queue = new TurnQueue()));
    this.queue = queue;
  }

  async intercept(_context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (!this.queue) return next.handle();
    const release = await this.queue.take();
    return next.handle().pipe(finalize(release));
  }
}

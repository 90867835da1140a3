import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { type AppSettings, settingsConfig } from '../config/settings.config';

/** A client address with PASSWORD_HASH_QUEUE sign-ins already waiting for a password check. */
export class PasswordWorkBusyException extends HttpException {
  readonly retryAfter = 1;

  constructor() {
    super(
      'too many sign-ins in progress from this address: try again shortly',
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/**
 * Bounds the CPU that password checks take: at most PASSWORD_HASH_CONCURRENCY at once, and the
 * rest wait in a queue per client address, served in turn (round robin), so that a flood from one
 * address delays another address's sign-in by one check at most. An address with
 * PASSWORD_HASH_QUEUE checks waiting is refused (429) instead of queueing more.
 */
@Injectable()
export class PasswordWork {
  private readonly limit: number;
  private readonly perClient: number;
  private running = 0;
  /** Waiting checks by address; Map order is the turn order (an address served goes to the back). */
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(@Inject(settingsConfig.KEY) settings: AppSettings) {
    this.limit = settings.passwordHashConcurrency;
    this.perClient = settings.passwordHashQueue;
  }

  async run<T>(client: string, work: () => Promise<T>): Promise<T> {
    await this.turn(client);
    try {
      return await work();
    } finally {
      this.handOver();
    }
  }

  private turn(client: string): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    let queue = this.waiting.get(client);
    if (!queue) this.waiting.set(client, (queue = []));
    if (queue.length >= this.perClient) return Promise.reject(new PasswordWorkBusyException());
    return new Promise((resume) => queue.push(resume));
  }

  /** A finished check hands its place to the next address in turn, else frees it. */
  private handOver(): void {
    const next = this.waiting.entries().next();
    if (next.done) {
      this.running--;
      return;
    }
    const [client, queue] = next.value;
    const resume = queue.shift()!;
    this.waiting.delete(client);
    if (queue.length > 0) this.waiting.set(client, queue);
    resume();
  }
}

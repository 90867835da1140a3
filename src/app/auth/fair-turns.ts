/**
 * Turns at a bounded resource, shared fairly between clients: at most `limit` holders at once;
 * the rest wait in a queue per client, served in turn (round robin), so that a flood from one
 * client delays another client by one turn at most. A client with `perClient` turns already
 * waiting is refused with `busy()` instead of queueing more.
 */
export class FairTurns {
  private running = 0;
  /** Waiting turns by client; Map order is the turn order (a client served goes to the back). */
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    private readonly limit: number,
    private readonly perClient: number,
    private readonly busy: () => Error,
  ) {}

  /** Runs `work` in `client`'s next turn. */
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
    if (queue.length >= this.perClient) return Promise.reject(this.busy());
    return new Promise((resume) => queue.push(resume));
  }

  /** A finished turn goes to the next client in line, else frees its place. */
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

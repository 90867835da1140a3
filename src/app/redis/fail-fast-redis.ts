import { Logger } from '@nestjs/common';
import { Command, Redis, type RedisOptions, ReplyError } from 'ioredis';

/** Timeouts in a row that mark Redis as not answering (one slow reply is not an outage). */
const TIMEOUTS_TO_OPEN = 3;
/** The longest wait between two tries to reach a Redis that is away: each try is the probe. */
const MAX_RETRY_MS = 2000;
const TIMED_OUT = 'Command timed out';
export const REDIS_UNAVAILABLE = 'Redis is not answering: skipped';

/**
 * The command connection, with a circuit breaker: no command ever waits for a Redis that is away.
 * A lost connection, or TIMEOUTS_TO_OPEN commands in a row unanswered within the command timeout,
 * opens it: every command then fails at once (callers count in process memory instead), a frozen
 * connection is dropped, and ioredis reconnects with a growing wait. Once a new connection is
 * ready, one PING goes through; its answer closes the breaker. One warning per outage, one line
 * when it ends.
 */
export class FailFastRedis extends Redis {
  private readonly logger = new Logger('Redis');
  /** False from the start of an outage until a probe is answered. */
  available = true;
  /** Outages since the start, for the metrics. */
  outages = 0;
  private timeoutsInARow = 0;
  private lastReplyAt = 0;
  private probe?: Command;
  private started = false;
  private closing = false;

  /**
   * @param commandTimeout milliseconds a command may go unanswered (REDIS_COMMAND_TIMEOUT)
   */
  constructor(
    url: string,
    options: RedisOptions,
    private readonly commandTimeout: number,
  ) {
    super(url, {
      ...options,
      commandTimeout: undefined,
      // Nothing queues while Redis is away, and nothing sent before an outage is sent again.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 5), MAX_RETRY_MS),
    });
    // ioredis reconnects by itself; without a listener an outage would be an uncaught error event.
    this.on('error', () => undefined);
    this.on('close', () => this.unavailable('the connection was lost'));
    this.on('ready', () => {
      this.started = true;
      this.sendProbe();
    });
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    if (!this.available && command !== this.probe && !this.isHandshake(command)) {
      command.reject(new Error(REDIS_UNAVAILABLE));
      return command.promise;
    }
    const sentAt = performance.now();
    // ioredis's commandTimeout fires before a busy event loop reads a reply that is already there:
    // this one decides after that turn's reads, so a late turn is not taken for a silent Redis.
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (!command.isResolved) command.reject(new Error(TIMED_OUT));
        }),
      this.commandTimeout,
    );
    const sent = super.sendCommand(command, stream);
    command.promise.then(
      () => {
        clearTimeout(timer);
        this.answered();
      },
      (error: Error) => {
        clearTimeout(timer);
        this.failed(error, sentAt);
      },
    );
    return sent;
  }

  /** At shutdown: QUIT when Redis answers, then no reconnecting (and the closing is no outage). */
  async close(): Promise<void> {
    this.closing = true;
    try {
      if (this.status === 'ready') await this.quit();
    } catch {
      // Away or frozen: nothing to say goodbye to.
    } finally {
      this.disconnect();
    }
  }

  /** ioredis's own commands on a new connection (AUTH, SELECT, CLIENT, INFO) before it is ready. */
  private isHandshake(command: Command): boolean {
    return this.status === 'connect' && Command.checkFlag('HANDSHAKE_COMMANDS', command.name);
  }

  private answered(): void {
    this.lastReplyAt = performance.now();
    if (this.available) this.timeoutsInARow = 0;
  }

  private failed(error: Error, sentAt: number): void {
    if (error instanceof ReplyError) return this.answered();
    // Only a Redis silent since the command was sent counts: a slow reply is not an outage.
    if (!this.available || error.message !== TIMED_OUT || this.lastReplyAt >= sentAt) return;
    if (++this.timeoutsInARow < TIMEOUTS_TO_OPEN) return;
    this.unavailable(`${TIMEOUTS_TO_OPEN} commands in a row went unanswered`);
    // A frozen connection still looks ready: drop it, so that commands fail at once until a new
    // connection answers.
    this.disconnect(true);
  }

  private unavailable(why: string): void {
    if (!this.available || !this.started || this.closing) return;
    this.available = false;
    this.outages += 1;
    this.probe = undefined;
    this.logger.warn(
      `Redis is not answering (${why}): rate limits and sign-in failure counts are kept in this ` +
        'process until it answers again',
    );
  }

  private sendProbe(): void {
    if (this.available) return;
    const probe = new Command('ping', []);
    this.probe = probe;
    this.sendCommand(probe);
    probe.promise.then(
      () => {
        if (this.probe !== probe) return;
        this.probe = undefined;
        this.available = true;
        this.timeoutsInARow = 0;
        this.logger.log(
          'Redis answers again: rate limits and sign-in failure counts are back in Redis',
        );
      },
      () => {
        if (this.probe === probe && this.status === 'ready') this.disconnect(true);
      },
    );
  }
}

import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { FairTurns } from './fair-turns';

/**
 * A client address with PASSWORD_HASH_QUEUE sign-ins already waiting for their turn (a password
 * check, or the look-up of a known address).
 */
export class SignInBusyException extends HttpException {
  readonly retryAfter = 1;

  constructor() {
    super(
      'too many sign-ins in progress from this address: try again shortly',
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/**
 * Bounds the CPU that password checks take: at most PASSWORD_HASH_CONCURRENCY at once, the rest
 * served per client address in turn (FairTurns), so that a flood from one address delays another
 * address's sign-in by one check at most. An address with PASSWORD_HASH_QUEUE checks waiting is
 * refused (429) instead of queueing more.
 */
@Injectable()
export class PasswordWork {
  private readonly turns: FairTurns;

  constructor(@Inject(settingsConfig.KEY) settings: AppSettings) {
    this.turns = new FairTurns(
      settings.passwordHashConcurrency,
      settings.passwordHashQueue,
      () => new SignInBusyException(),
    );
  }

  run<T>(client: string, work: () => Promise<T>): Promise<T> {
    return this.turns.run(client, work);
  }
}

import type { TokenRejection } from './token.constants';

export class TokenRejectedError extends Error {
  constructor(readonly reason: TokenRejection) {
    super(`the token is not valid: ${reason}`);
  }
}

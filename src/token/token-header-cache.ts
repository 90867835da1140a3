import { Injectable } from '@nestjs/common';
import { BoundedMap } from '../common/bounded-map';
import { TokenRejectedError } from './token-rejected.error';

const MAX_TOKEN_LENGTH = 8192;

export interface TokenHeader {
  alg?: unknown;
  kid?: unknown;
  crit?: unknown;
}

function parseHeader(encoded: string): TokenHeader {
  try {
    const header: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    if (typeof header !== 'object' || header === null) throw new TokenRejectedError('malformed');
    return header as TokenHeader;
  } catch {
    throw new TokenRejectedError('malformed');
  }
}

const MAX_CACHED_HEADERS = 256;
const MAX_CACHED_HEADER_LENGTH = 512;

/**
 * Reads the JOSE header of a compact JWS, refusing a malformed token. Headers read lately are kept
 * by their encoded form, since a configuration's tokens all share one: up to 256 short ones, as
 * the caller chooses what it sends.
 */
@Injectable()
export class TokenHeaderCache {
  private readonly headers = new BoundedMap<string, Readonly<TokenHeader>>(MAX_CACHED_HEADERS);

  read(token: string): Readonly<TokenHeader> {
    const parts = token.split('.');
    if (token.length > MAX_TOKEN_LENGTH || parts.length !== 3)
      throw new TokenRejectedError('malformed');
    const encoded = parts[0];
    const cached = this.headers.get(encoded);
    if (cached) return cached;
    const header = Object.freeze(parseHeader(encoded));
    if (encoded.length <= MAX_CACHED_HEADER_LENGTH) this.headers.set(encoded, header);
    return header;
  }
}

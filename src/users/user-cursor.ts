import { canonicalUsername } from '../common/validation/username';

/**
 * Where a page of user/list ends: the last user's username, as an opaque token (base64url of its
 * UTF-8). The next page holds the users after it in username order.
 */
export function encodeUserCursor(username: string): string {
  return Buffer.from(username, 'utf8').toString('base64url');
}

/** 128 characters of at most 4 UTF-8 bytes each, in base64url. */
const ENCODED = /^[A-Za-z0-9_-]{2,683}$/;

/** The username `text` stands for, or undefined when it is not a cursor this service gave out. */
export function decodeUserCursor(text: string): string | undefined {
  if (!ENCODED.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  const username = bytes.toString('utf8');
  // Only the canonical encoding of a stored-form username: no stray bytes, no other spelling.
  if (encodeUserCursor(username) !== text) return undefined;
  return canonicalUsername(username) === username ? username : undefined;
}

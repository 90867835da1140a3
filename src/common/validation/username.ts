/** Printable ASCII without space or colon: a valid username, and already in NFC. */
const PLAIN_ASCII = /^[\x21-\x39\x3b-\x7e]{1,128}$/;

/**
 * Why `value` cannot be a username, or undefined. A lone surrogate would be stored as bytes that
 * no request can name again; control and format characters (zero-width, bidi overrides) make two
 * names look alike; a colon cannot travel in Basic credentials.
 */
export function usernameProblem(value: string): string | undefined {
  if (PLAIN_ASCII.test(value)) return undefined;
  if (/\p{Cs}/u.test(value)) return 'must be well-formed Unicode (no lone surrogates)';
  if (/[\p{Cc}\p{Cf}]/u.test(value)) return 'must not contain control or format characters';
  if (!/^[^\s:]{1,128}$/u.test(value)) return 'must be 1 to 128 characters without spaces or colons';
  return undefined;
}

/**
 * The one form a username is stored and looked up in: NFC, so that composed and decomposed input
 * name one user. Undefined when the value cannot be a username. Look-alikes are not folded.
 */
export function canonicalUsername(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Most names are plain ASCII: valid as they are, without the Unicode checks below.
  if (PLAIN_ASCII.test(value)) return value;
  const normalized = value.normalize('NFC');
  return usernameProblem(normalized) === undefined ? normalized : undefined;
}

/** Field names whose values never reach a log line. */
export const SECRET_FIELDS = [
  'secret',
  'privateKey',
  'password',
  'initpwd',
  'token',
  'secretsKey',
  'secretsKeyPrevious',
  'previousSecretsKeys',
  'adminPassword',
  'passwordHash',
  'authorization',
  'cookie',
  'set-cookie',
];
export const CENSORED = '[redacted]';
/** How deep a logged object is searched: the top level and three below it. */
const MAX_DEPTH = 4;
const SECRET_KEYS = new Set(SECRET_FIELDS);

/** A copy that keeps what `JSON.stringify` and the err serializer read: prototype, message, stack. */
function shallowCopy(value: object): Record<string, unknown> {
  if (Array.isArray(value)) return [...value] as unknown as Record<string, unknown>;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null
    ? { ...value }
    : (Object.create(prototype as object, Object.getOwnPropertyDescriptors(value)) as Record<
        string,
        unknown
      >);
}

/**
 * `fields` with the value of every secret-named key replaced, at any of the first four levels. A
 * level is copied only where it holds one, so a line without secrets costs a walk and no copy
 * (pino's own `redact` parses its paths again on every line: about a third of a request's CPU).
 * `skip` names top-level keys left to their serializers (the request and reply objects).
 */
export function censorSecrets<T extends object>(
  fields: T,
  skip?: ReadonlySet<string>,
  depth = 1,
): T {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    if (skip?.has(key)) continue;
    const value = (fields as Record<string, unknown>)[key];
    let kept = value;
    if (SECRET_KEYS.has(key)) kept = value === undefined ? undefined : CENSORED;
    else if (depth < MAX_DEPTH && typeof value === 'object' && value !== null)
      kept = censorSecrets(value, undefined, depth + 1);
    if (kept !== value) {
      copy ??= shallowCopy(fields);
      copy[key] = kept;
    }
  }
  return (copy as T | undefined) ?? fields;
}

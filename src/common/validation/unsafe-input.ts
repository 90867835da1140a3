import { FieldsBadRequestException } from '../http/bad-request';
import type { FieldError } from '../http/error-envelope';

/** How deep a request's values may nest, counted from the body. */
export const MAX_DEPTH = 8;
/** Keys class-transformer would silently drop (they name functions of every object). */
const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Refuses (400, naming each field) what class-transformer and the databases cannot take safely,
 * before they see it: nesting deep enough to exhaust the stack, keys named like Object.prototype
 * members, and NUL characters (PostgreSQL refuses them in text). The one rule for a body and for
 * the JSON text inside it.
 * @param depth how deep `value` sits in the body (a top-level field is at 1)
 */
export function refuseUnsafe(value: unknown, path: string, depth = 0): void {
  // The common case walks once without naming fields; only refused input pays for the names.
  if (isSafe(value, depth)) return;
  const unsafe = unsafeParts(value, path, depth);
  if (unsafe.length > 0) throw new FieldsBadRequestException(unsafe.slice(0, 20));
}

/** Whether unsafeParts would find nothing, without building the field names it reports. */
function isSafe(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return !value.includes('\u0000');
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) return value.every((item) => isSafe(item, depth + 1));
  for (const key of Object.keys(value)) {
    if (OBJECT_MEMBERS.has(key)) return false;
    if (!isSafe((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

function unsafeParts(value: unknown, path: string, depth = 0): FieldError[] {
  if (typeof value === 'string')
    return value.includes('\u0000')
      ? [{ field: path, message: 'must not contain NUL characters' }]
      : [];
  if (typeof value !== 'object' || value === null) return [];
  if (depth >= MAX_DEPTH)
    return [{ field: path, message: `is nested more than ${MAX_DEPTH} levels deep` }];
  const entries = Array.isArray(value)
    ? value.map((item, index) => [`[${index}]`, item] as const)
    : Object.entries(value);
  return entries.flatMap(([key, item]) => {
    const field = key.startsWith('[') ? `${path}${key}` : path ? `${path}.${key}` : key;
    if (!Array.isArray(value) && OBJECT_MEMBERS.has(key))
      return [{ field, message: 'is not a known field' }];
    return unsafeParts(item, field, depth + 1);
  });
}

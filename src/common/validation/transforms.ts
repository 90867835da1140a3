import { type ClassConstructor, plainToInstance, type TransformFnParams } from 'class-transformer';
import { refuseUnsafe } from './unsafe-input';

/** `"1"`/`"0"` flags, also accepted as JSON booleans and numbers; anything else is left for the validator to refuse. */
export function toFlag({ value }: TransformFnParams): unknown {
  if (value === true || value === 1 || value === '1' || value === 'true') return '1';
  if (value === false || value === 0 || value === '0' || value === 'false') return '0';
  return value;
}

/**
 * Arrays as they are; in forms, a JSON array as text or a list joined with `&`.
 * @param field the field's full path, where it is not its key (a field of a nested object)
 */
export function toStringList({ value, key }: TransformFnParams, field = key): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text.startsWith('[')) return parseJson(text, field);
  return text === ''
    ? []
    : text
        .split('&')
        .map((item) => item.trim())
        .filter(Boolean);
}

/** Objects as they are; in forms, an object as JSON text. */
export function toJsonObject({ value, key }: TransformFnParams): unknown {
  return typeof value === 'string' && value.trim().startsWith('{') ? parseJson(value, key) : value;
}

/** A nested DTO from an object, or (in forms) from JSON text; other values are left for the validator to refuse. */
export function toNested<T>(type: ClassConstructor<T>) {
  return (params: TransformFnParams): unknown => {
    const value = toJsonObject(params);
    const plain =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      !(value instanceof type);
    return plain ? plainToInstance(type, value) : value;
  };
}

/** Integers as they are; in forms and queries, a string of digits that is a safe integer. */
export function toInteger({ value }: TransformFnParams): unknown {
  if (typeof value !== 'string' || !/^\s*-?\d{1,16}\s*$/.test(value)) return value;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value;
}

/** JSON text becomes a value only within the limits a JSON body has (refused with a 400 otherwise). */
function parseJson(text: string, field: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  refuseUnsafe(value, field, field.split('.').length);
  return value;
}

import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError } from '../http/error-envelope';
import { FieldsBadRequestException } from '../http/bad-request';

const BASIC_RULES = [
  'whitelistValidation',
  'isDefined',
  'isString',
  'isObject',
  'isArray',
  'isInt',
  'isNotEmpty',
  'isIn',
];
const rank = (rule: string) =>
  BASIC_RULES.includes(rule) ? BASIC_RULES.indexOf(rule) : BASIC_RULES.length;

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (!error.property) return [{ field: 'body', message: 'must be a JSON object or a form' }];
    // One message a field: the most basic rule it breaks (present, then of the right type, then the rest).
    const rules = Object.entries(error.constraints ?? {}).sort(([a], [b]) => rank(a) - rank(b));
    const own = rules.slice(0, 1).map(([rule, text]) => ({
      field,
      message:
        rule === 'whitelistValidation'
          ? 'is not a known field'
          : text.startsWith(`${error.property} `)
            ? text.slice(error.property.length + 1)
            : text,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

const isPlainObject = (value: unknown) =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const MAX_DEPTH = 8;
/** Keys class-transformer would silently drop (they name functions of every object). */
const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * What class-transformer and the databases cannot take safely, found before they see it: nesting
 * deep enough to exhaust the stack, keys named like Object.prototype members, and NUL characters
 * (PostgreSQL refuses them in text).
 */
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

/** A field set to null is a field not given: every optional field then takes its default. */
function withoutNulls(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== null)
      .map(([key, item]) => [key, withoutNulls(item)]),
  );
}

/** Refuses a body that is not an object, and unsafe input, before it reaches the DTO. */
class EnvelopeValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (!this.toValidate(metadata)) return super.transform(value, metadata);
    if (metadata.type === 'body' && !isPlainObject(value)) {
      throw new FieldsBadRequestException([
        { field: 'body', message: 'must be a JSON object or a form' },
      ]);
    }
    const unsafe = unsafeParts(value, '');
    if (unsafe.length > 0) throw new FieldsBadRequestException(unsafe.slice(0, 20));
    return super.transform(withoutNulls(value), metadata);
  }
}

/**
 * The validation set-up of every controller of this service: unknown fields are refused, values are
 * never echoed back (they may be secrets), and every error names its field by its full path.
 */
export function createValidationPipe(): ValidationPipe {
  return new EnvelopeValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new FieldsBadRequestException(flatten(errors)),
  });
}

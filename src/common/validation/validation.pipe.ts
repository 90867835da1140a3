import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError } from '../http/error-envelope';
import { FieldsBadRequestException } from '../http/bad-request';
import { refuseUnsafe } from './unsafe-input';

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

/**
 * A field set to null is a field not given: every optional field then takes its default. Objects
 * are rebuilt as plain ones (a form body's have no prototype, which class-transformer cannot copy),
 * except an ordinary object that holds no null at any depth, which is taken as it is.
 */
function withoutNulls(value: unknown): unknown {
  if (!isPlainObject(value) || isOrdinaryWithoutNulls(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== null)
      .map(([key, item]) => [key, withoutNulls(item)]),
  );
}

function isOrdinaryWithoutNulls(value: unknown): boolean {
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const item of Object.values(value as Record<string, unknown>)) {
    if (item === null) return false;
    if (isPlainObject(item) && !isOrdinaryWithoutNulls(item)) return false;
  }
  return true;
}

/**
 * The `data` a custom param decorator gives when it returns the request body (e.g. reshaped): the
 * pipe checks that param as it checks `@Body()`.
 */
export const BODY_PARAM = 'datafor:body';

const isBody = ({ type, data }: ArgumentMetadata) =>
  type === 'body' || (type === 'custom' && data === BODY_PARAM);

/** Refuses a body that is not an object, and unsafe input, before it reaches the DTO. */
class EnvelopeValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (!this.toValidate(metadata)) return super.transform(value, metadata);
    if (isBody(metadata) && !isPlainObject(value)) {
      throw new FieldsBadRequestException([
        { field: 'body', message: 'must be a JSON object or a form' },
      ]);
    }
    refuseUnsafe(value, '');
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
    // Custom param decorators are validated too: generate's body comes from one.
    validateCustomDecorators: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new FieldsBadRequestException(flatten(errors)),
  });
}

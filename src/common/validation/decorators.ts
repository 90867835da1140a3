import { applyDecorators } from '@nestjs/common';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsString,
  Matches,
  ValidateBy,
  ValidateIf,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { Transform, type TransformFnParams } from 'class-transformer';
import { usernameProblem } from './username';

export const NON_EMPTY_STRING = 'must be a non-empty string';

/**
 * The document's pattern of a string without a pattern of its own: NUL characters are refused in
 * every string (unsafe-input.ts).
 */
export const NUL_FREE_PATTERN = '^[^\\u0000]*$';

/**
 * A username's pattern in the document: 1 to 128 characters, none of them white space, a colon,
 * or a control (Cc) or format (Cf) character of the Basic Multilingual Plane. Written with \u
 * escapes rather than \p{Cc} and \p{Cf}, which only a reading with the `u` flag understands:
 * without it (as Spectral reads patterns) \p{Cc} means the letters p, C and c, and the pattern
 * refused "alice". What no portable pattern says, the service checks beyond it: format characters
 * outside the BMP (tags U+E0001-E007F and a few others) and lone surrogates. The rule is
 * usernameProblem's, checked on the NFC form of the value.
 */
export const USERNAME_PATTERN =
  '^[^\\s:\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890\\u0891\\u08E2' +
  '\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB]{1,128}$';

/** The context of AllowEmpty's condition, which the document reads (openapi-rules.ts). */
export const EMPTY_MEANS_CLEAR = 'emptyMeansClear';

/** The rules that follow apply to a value given other than '' (an empty string that clears the field). */
export function AllowEmpty(): PropertyDecorator {
  return ValidateIf((_, value) => value !== undefined && value !== '', {
    context: EMPTY_MEANS_CLEAR,
  });
}

const codePoints = (value: string) => [...value].length;

/**
 * At least `min` characters, counted as the document's minLength counts them: code points.
 * (class-validator's MinLength does not count variation selectors: 8 code points with one passed
 * the document and failed the server.) Named as class-validator's rule, which the document maps.
 */
export function MinLength(min: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'minLength',
      constraints: [min],
      validator: { validate: (value) => typeof value === 'string' && codePoints(value) >= min },
    },
    options,
  );
}

/** At most `max` characters, counted as the document's maxLength counts them: code points. */
export function MaxLength(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxLength',
      constraints: [max],
      validator: { validate: (value) => typeof value === 'string' && codePoints(value) <= max },
    },
    options,
  );
}

export function IsNonEmptyString(maxLength: number): PropertyDecorator {
  return applyDecorators(
    IsString({ message: NON_EMPTY_STRING }),
    IsNotEmpty({ message: NON_EMPTY_STRING }),
    MaxLength(maxLength, { message: `must be at most ${maxLength} characters long` }),
  );
}

export function IsFlag(): PropertyDecorator {
  return IsIn(['1', '0'], { message: 'must be "1" or "0"' });
}

export function IsStringList(maxItems: number, maxLength: number): PropertyDecorator {
  return applyDecorators(
    IsArray({ message: 'must be an array of strings' }),
    ArrayMaxSize(maxItems, { message: `must hold at most ${maxItems} items` }),
    IsString({ each: true, message: 'must be an array of non-empty strings' }),
    IsNotEmpty({ each: true, message: 'must be an array of non-empty strings' }),
    MaxLength(maxLength, {
      each: true,
      message: `items must be at most ${maxLength} characters long`,
    }),
  );
}

/** A configuration's name: 1-64 of A-Za-z0-9_- (also how its tokens' `kid` reads). */
export const CONFIG_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function IsConfigName(): PropertyDecorator {
  return applyDecorators(
    IsString({ message: 'must be 1 to 64 of A-Z, a-z, 0-9, _ and -' }),
    Matches(CONFIG_NAME_PATTERN, { message: 'must be 1 to 64 of A-Z, a-z, 0-9, _ and -' }),
  );
}

/** A username, in NFC (see username.ts): the DTOs' one rule for every username a request names. */
export function IsUsername(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: TransformFnParams) =>
      typeof value === 'string' ? value.normalize('NFC') : value,
    ),
    IsString({ message: NON_EMPTY_STRING }),
    IsNotEmpty({ message: NON_EMPTY_STRING }),
    ValidateBy({
      name: 'isUsername',
      validator: {
        validate: (value) => typeof value === 'string' && usernameProblem(value) === undefined,
        defaultMessage: ({ value }: ValidationArguments) =>
          typeof value === 'string' ? (usernameProblem(value) ?? '') : NON_EMPTY_STRING,
      },
    }),
  );
}

/**
 * A list item as a form may carry it. A form sends a list as repeated fields; one field alone
 * arrives as a string, which toStringList reads as a JSON array when it starts with `[` and splits
 * on `&` otherwise: an item that starts with `[` cannot travel alone, so a form's items never do.
 */
const FORM_LIST_ITEM = /^\s*(?:[^\s\[\u0000][^\u0000]*)?$/;

/**
 * The rules of a list in a form body's schema: IsStringList's, and items as a form carries them.
 * For the form DTOs that only document a form's shape (the JSON DTO validates both shapes).
 */
export function IsFormStringList(maxItems: number, maxLength: number): PropertyDecorator {
  return applyDecorators(
    IsStringList(maxItems, maxLength),
    Matches(FORM_LIST_ITEM, { each: true, message: 'must not start with [ in a form' }),
  );
}

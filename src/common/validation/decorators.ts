import { applyDecorators } from '@nestjs/common';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';

export const NON_EMPTY_STRING = 'must be a non-empty string';

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

/** Usernames travel in Basic credentials, so they never hold a colon, nor spaces. */
export const USERNAME_PATTERN = /^[^\s:\u0000-\u001f\u007f]{1,128}$/;

export function IsUsername(): PropertyDecorator {
  return applyDecorators(
    IsString({ message: NON_EMPTY_STRING }),
    IsNotEmpty({ message: NON_EMPTY_STRING }),
    Matches(USERNAME_PATTERN, { message: 'must be 1 to 128 characters without spaces or colons' }),
  );
}

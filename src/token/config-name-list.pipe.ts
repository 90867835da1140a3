import { Injectable, PipeTransform } from '@nestjs/common';
import { FieldsBadRequestException } from '../common/http/bad-request';
import { FieldError } from '../common/http/error-envelope';
import { CONFIG_NAME_PATTERN } from '../common/validation/decorators';

/** The body of deleteBatch: a JSON array of configuration names. */
@Injectable()
export class ConfigNameListPipe implements PipeTransform<unknown, string[]> {
  transform(value: unknown): string[] {
    if (!Array.isArray(value))
      throw new FieldsBadRequestException([
        { field: 'body', message: 'must be a JSON array of configuration names' },
      ]);
    const errors: FieldError[] = value
      .map((item, index) => ({ item, index }))
      .filter(({ item }) => typeof item !== 'string' || !CONFIG_NAME_PATTERN.test(item))
      .map(({ index }) => ({
        field: `body[${index}]`,
        message: 'must be 1 to 64 of A-Z, a-z, 0-9, _ and -',
      }));
    if (errors.length > 0) throw new FieldsBadRequestException(errors.slice(0, 20));
    return value as string[];
  }
}

import { BadRequestException } from '@nestjs/common';
import { FieldError } from './error-envelope';

/** A 400 that names the offending fields; the envelope filter turns it into `errors`. */
export class FieldsBadRequestException extends BadRequestException {
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((e) => `${e.field} ${e.message}`).join('; '));
  }
}

export function badField(field: string, message: string): FieldsBadRequestException {
  return new FieldsBadRequestException([{ field, message }]);
}

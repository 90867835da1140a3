import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ description: 'Full path of the offending field', example: 'payload.username' })
  field: string;

  @ApiProperty({ description: 'What is wrong with it', example: 'must be a non-empty string' })
  message: string;
}

/** The body of every error answer: Datafor-style clients read `success`, `code` and `msg`. */
export class ErrorEnvelopeDto {
  @ApiProperty({ example: false })
  success: false;

  @ApiProperty({ description: 'The HTTP status as a string', example: '400' })
  code: string;

  @ApiProperty({ example: 'payload.username must be a non-empty string' })
  msg: string;

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    description: 'Every offending field, on validation failures',
  })
  errors?: FieldErrorDto[];
}

export interface FieldError {
  field: string;
  message: string;
}

export function errorEnvelope(
  status: number,
  msg: string,
  errors?: FieldError[],
): ErrorEnvelopeDto {
  return errors?.length
    ? { success: false, code: String(status), msg, errors }
    : { success: false, code: String(status), msg };
}

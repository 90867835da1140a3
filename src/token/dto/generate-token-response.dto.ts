import { ApiProperty } from '@nestjs/swagger';

/**
 * A token the service mints from the generate example (ERP as update's example makes it, signed
 * with EXAMPLE_SECRET) at 2026-01-01T00:00:00Z, with a fixed jti: test/openapi.e2e-spec.ts checks
 * it byte for byte against a real mint at that instant.
 */
export const GENERATE_TOKEN_RESPONSE_EXAMPLE_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IkVSUCJ9.' +
  'eyJFUlAiOiJhbGljZSIsIm5hbWUiOiJBbGljZSBNYXJ0aW4iLCJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwicm9sZXMiOlsiU1lTX1JlYWRlciIsIlNhbGVzIl0sImNvbXBhbnkiOiJFeGFtcGxlIFRyYWRpbmcgTHRkIiwiZGVwdCI6IlNhbGVzIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjE3NjczMTIwMDAsImp0aSI6IjNiOWUwYzUyLThmMWQtNGM2YS05ZTQ3LTJkNWYxYTdiOGM5MCJ9.' +
  'mYQWP-uV7rrkuNXuXfjwMy4tVtsREAkDttKog_kuKKo';

export class GenerateTokenResponseDto {
  @ApiProperty({
    description: 'Indicates if the token generation was successful (true or false).',
    example: true,
  })
  success: boolean;

  @ApiProperty({
    description: "The token's expiration time in seconds.",
    example: 86400,
    type: 'integer',
  })
  expire: number;

  @ApiProperty({
    description: 'The generated token string.',
    example: GENERATE_TOKEN_RESPONSE_EXAMPLE_TOKEN,
  })
  token: string;
}

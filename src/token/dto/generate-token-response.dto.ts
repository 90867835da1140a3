import { ApiProperty } from '@nestjs/swagger';

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
    example:
      'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJFUlAiOiJhZG1pbiIsImV4cCI6MTcyMzAxNTkxNn0.uEmUwBfNAd5FtzjPPrldU9bierng7fd8rCVlZtVPY2k',
  })
  token: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNonEmptyString } from '../../common/validation/decorators';
import { TOKEN_REJECTIONS } from '../token.constants';

/** `POST /token/verify`: introspection of a token (RFC 7662 style). */
export class VerifyTokenDto {
  @ApiProperty({
    description: 'The token to inspect',
    example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IkVSUCJ9...',
  })
  @IsNonEmptyString(8192)
  token: string;
}

export class VerifyTokenResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ description: 'Whether the token would sign its user in now', example: true })
  active: boolean;
  @ApiPropertyOptional({ description: 'The configuration that issued it', example: 'ERP' })
  name?: string;
  @ApiPropertyOptional({ example: 'alice' }) username?: string;
  // The token's own values: an issuer may sign fractional seconds (1767229200.5), echoed as they are.
  @ApiPropertyOptional({
    description: "Expiry, epoch seconds, as the token has it (an issuer's may be fractional)",
    type: 'number',
    example: 1767229200,
  })
  exp?: number;
  @ApiPropertyOptional({
    description: "Issued at, epoch seconds, as the token has it (an issuer's may be fractional)",
    type: 'number',
    example: 1767225600,
  })
  iat?: number;
  @ApiPropertyOptional() jti?: string;
  @ApiPropertyOptional({
    description: 'Why the token is not active',
    enum: TOKEN_REJECTIONS,
  })
  reason?: string;
}

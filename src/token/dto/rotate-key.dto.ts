import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Min } from 'class-validator';
import { IsConfigName, IsNonEmptyString } from '../../common/validation/decorators';
import { toInteger } from '../../common/validation/transforms';
import { TokenConfigNameDto } from './token-config-name.dto';

/** `POST /token/rotate`: a configuration's next key version; the current one overlaps it. */
export class RotateKeyDto {
  @ApiProperty({ description: 'The configuration whose key to rotate', example: 'ERP' })
  @IsConfigName()
  name: string;

  @ApiPropertyOptional({
    description:
      "The new key of an issuer-held configuration (required): an HMAC secret, or the issuer's new public key (base64 SPKI). " +
      'Not accepted for a service-held one, whose next key pair the service makes.',
    format: 'password',
    example: 'example-erp-secret-next-0123456789abcdefghij',
  })
  @IsOptional()
  @IsNonEmptyString(8192)
  secret?: string;

  @ApiPropertyOptional({
    description:
      "Seconds the previous key keeps verifying (from when the new one signs); default the configuration's expire. 0 retires it at once.",
    example: 3600,
  })
  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: 'must be a whole number of seconds' })
  @Min(0, { message: 'must be at least 0' })
  overlap?: number;
}

/** The version a rotation moved into its overlap. Instants in epoch seconds. */
export class PreviousKeyDto {
  @ApiProperty({ example: 'ERP' }) kid: string;
  @ApiProperty({ type: 'integer', example: 1796003600 }) retires: number;
}

export class RotateKeyResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 'ERP.q3Zt8xYb', description: 'The new key version' }) kid: string;
  @ApiProperty({
    type: 'integer',
    example: 1796000300,
    description:
      'When the new key starts signing (epoch seconds): at once for an issuer-held key; a service-held one is published in the JWKS first, for its max-age',
  })
  signsFrom: number;
  @ApiProperty({ type: PreviousKeyDto }) previous: PreviousKeyDto;
  @ApiPropertyOptional({
    description: 'Present when the new HMAC secret is shorter than recommended, as update warns',
    example: 'the secret is 12 bytes long; 32 or more random bytes are recommended for HS256',
  })
  warning?: string;
}

/** `POST /token/retire`: ends a configuration's overlap at once (a leaked previous key). */
export class RetireKeyDto extends TokenConfigNameDto {}

export class RetireKeyResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({
    type: [String],
    example: ['ERP'],
    description: 'The kids whose tokens are refused from now on (empty: no overlap was running)',
  })
  retired: string[];
}

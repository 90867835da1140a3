import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A public signing key (RFC 7517) of a service-held configuration. */
export class JwkDto {
  @ApiProperty({ enum: ['RSA', 'EC'] }) kty: string;
  @ApiProperty({ example: 'ERP.q3Zt8xYb' }) kid: string;
  @ApiProperty({ example: 'RS256' }) alg: string;
  @ApiProperty({ enum: ['sig'] }) use: 'sig';
  @ApiPropertyOptional({ description: 'RSA modulus (base64url)' }) n?: string;
  @ApiPropertyOptional({ description: 'RSA exponent (base64url)', example: 'AQAB' }) e?: string;
  @ApiPropertyOptional({ enum: ['P-256', 'P-384', 'P-521'] }) crv?: string;
  @ApiPropertyOptional({ description: 'EC x coordinate (base64url)' }) x?: string;
  @ApiPropertyOptional({ description: 'EC y coordinate (base64url)' }) y?: string;
}

/** RFC 7517's JWK Set: the live public keys of every enabled service-held configuration. */
export class JwksDto {
  @ApiProperty({ type: [JwkDto] }) keys: JwkDto[];
}

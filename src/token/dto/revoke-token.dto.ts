import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsConfigName, IsNonEmptyString } from '../../common/validation/decorators';
import { toInteger } from '../../common/validation/transforms';

/** `POST /token/revoke`: one token by its `jti`, or every token of `name` issued before `before`. */
export class RevokeTokenDto {
  @ApiPropertyOptional({
    description: 'The id (jti claim) of the one token to revoke',
    example: '4f1c2a7e-7b3d-4f39-9a4e-2c0a3f8d9b10',
  })
  @IsOptional()
  @IsNonEmptyString(128)
  jti?: string;

  @ApiPropertyOptional({ description: 'The configuration whose tokens to revoke', example: 'ERP' })
  @IsOptional()
  @IsConfigName()
  name?: string;

  @ApiPropertyOptional({
    description:
      'With name: revoke the tokens issued before this instant (epoch seconds); default now',
  })
  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: 'must be a whole number of epoch seconds' })
  @Min(0, { message: 'must be a whole number of epoch seconds' })
  @Max(253402300799, { message: 'must be a whole number of epoch seconds' })
  before?: number;
}

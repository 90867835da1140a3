import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, Matches, NotContains } from 'class-validator';

export const CLAIM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
const claimName = () =>
  applyDecorators(
    IsString({ message: 'must be a claim name' }),
    IsNotEmpty({ message: 'must be a claim name' }),
    Matches(CLAIM_NAME, {
      message: 'must be a claim name: a letter or _ then up to 63 of A-Za-z0-9_.:-',
    }),
    NotContains('__proto__', { message: 'must be a claim name' }),
  );

/** The claim names under which a token carries the user's username, name and email. */
export class FieldMapDto {
  @ApiProperty({ description: 'Claim that carries the username', example: 'ERP' })
  @claimName()
  username: string;

  @ApiPropertyOptional({ description: "Claim that carries the user's name", example: 'name' })
  @IsOptional()
  @claimName()
  name?: string;

  @ApiPropertyOptional({ description: "Claim that carries the user's email", example: 'email' })
  @IsOptional()
  @claimName()
  email?: string;
}

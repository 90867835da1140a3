import { applyDecorators } from '@nestjs/common';
import { ApiHideProperty, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Transform } from 'class-transformer';
import { Allow, IsOptional, IsString } from 'class-validator';
import { ApiAdditionalProperties } from '../../common/http/openapi';
import { IsStringList, IsUsername, MaxLength } from '../../common/validation/decorators';
import { toStringList } from '../../common/validation/transforms';

const optionalString = (description: string, example?: string) =>
  applyDecorators(
    ApiPropertyOptional({ description, example }),
    IsOptional(),
    IsString({ message: 'must be a string' }),
    MaxLength(256, { message: 'must be at most 256 characters long' }),
  );

export const PAYLOAD_FIELDS = [
  'username',
  'name',
  'roles',
  'inituser',
  'password',
  'company',
  'dept',
  'email',
  'description',
  'title',
  'dob',
  'mobile',
] as const;

/** What a custom claim of a mint's payload may be. */
export const CUSTOM_CLAIM_SCHEMA = {
  oneOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'array', items: { type: 'string' } },
  ],
};

/**
 * `payload` of a mint: the user and role info of the seed's table. Keys beyond it travel as custom
 * claims (string, number, boolean or array of strings), gathered into `customClaims`.
 */
@ApiAdditionalProperties(CUSTOM_CLAIM_SCHEMA)
export class TokenPayloadDto {
  @ApiProperty({ description: 'Username for token generation.', example: 'alice' })
  @IsUsername()
  username: string;

  @optionalString("User's name.", 'Alice Martin') name?: string;

  @ApiPropertyOptional({
    description: 'List of user roles.',
    type: [String],
    example: ['SYS_Reader', 'Sales'],
  })
  @IsOptional()
  @Transform((params) => toStringList(params, 'payload.roles'))
  @IsStringList(64, 64)
  roles?: string[];

  @optionalString('Initial user.') inituser?: string;

  @ApiPropertyOptional({
    description: 'User password.',
    format: 'password',
  })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(256, { message: 'must be at most 256 characters long' })
  password?: string;

  @optionalString('Company name.', 'Example Trading Ltd') company?: string;
  @optionalString('Department name.', 'Sales') dept?: string;
  @optionalString('Email address.', 'alice@example.com') email?: string;
  @optionalString('Description.') description?: string;
  @optionalString('Title.') title?: string;
  @optionalString('Date of birth.') dob?: string;
  @optionalString('Mobile number.') mobile?: string;

  @ApiHideProperty()
  @Allow()
  customClaims?: Record<string, unknown>;

  /**
   * Splits a payload into the known fields and the custom claims; values that are not objects pass
   * through to fail validation. Through `@Type`, class-transformer hands over an instance it has
   * already built (its fields' own transforms applied, unknown keys copied as they are): that one is
   * split without a second transformation.
   */
  static fromPlain(value: unknown): unknown {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const built = value instanceof TokenPayloadDto;
    const known = (built ? new TokenPayloadDto() : {}) as Record<string, unknown>;
    const customClaims: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      if ((PAYLOAD_FIELDS as readonly string[]).includes(key)) known[key] = item;
      else customClaims[key] = item;
    }
    known.customClaims = customClaims;
    return built ? known : plainToInstance(TokenPayloadDto, known);
  }
}

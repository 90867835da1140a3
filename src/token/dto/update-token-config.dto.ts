import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  AllowEmpty,
  IsConfigName,
  IsFlag,
  IsNonEmptyString,
  IsStringList,
  MinLength,
} from '../../common/validation/decorators';
import { toFlag, toInteger, toNested, toStringList } from '../../common/validation/transforms';
import {
  KEY_HOLDERS,
  type KeyHolder,
  MASK,
  TOKEN_ALGORITHMS,
  TOKEN_DEFAULTS,
} from '../token.constants';
import { FieldMapDto } from './field-map.dto';
import { KeyVersionViewDto } from './key-version-view.dto';

/**
 * The secret of the documentation's examples (43 bytes, over the 32 recommended for HS256): update's
 * example stores it and generate's example sends it, so Swagger UI's prefilled bodies work in turn.
 */
export const EXAMPLE_SECRET = 'example-erp-secret-replace-me-0123456789abc';

/** What Swagger UI offers to send to update: an enabled HS256 configuration ERP that creates users. */
export const UPDATE_TOKEN_CONFIG_EXAMPLE = {
  name: 'ERP',
  token_name: TOKEN_DEFAULTS.tokenName,
  secret: EXAMPLE_SECRET,
  expire: TOKEN_DEFAULTS.expire,
  fieldmap: { username: 'ERP', name: 'name', email: 'email' },
  algorithm: 'HS256',
  enable: '1',
  inituser: '1',
  initroles: ['SYS_Reader'],
};

/**
 * `POST /token/update`: creates or replaces the configuration named `name` (JSON or form).
 *
 * Defaults are said in the descriptions, not as `default` keywords: openapi-typescript (default
 * settings) types a field with a `default` as required, though a client may leave it out.
 */
export class UpdateTokenConfigDto {
  @ApiProperty({ description: 'Unique name, 1-64 of A-Za-z0-9_-', example: 'ERP' })
  @IsConfigName()
  name: string;

  @ApiPropertyOptional({
    description: `URL query parameter that carries the token; "${TOKEN_DEFAULTS.tokenName}" when omitted`,
    example: TOKEN_DEFAULTS.tokenName,
  })
  @IsOptional()
  @IsString({ message: 'must be a query parameter name' })
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1 to 64 of A-Za-z0-9_.-' })
  token_name?: string;

  @ApiPropertyOptional({
    description: `HS*: the shared secret (32 bytes or more recommended). RS*/ES*: the issuer's public key, base64 SPKI. Required on create; omit or send ${MASK} to keep the stored one.`,
    format: 'password',
    example: EXAMPLE_SECRET,
  })
  @IsOptional()
  @IsNonEmptyString(8192)
  secret?: string;

  @ApiPropertyOptional({
    description: `Lifetime in seconds of minted tokens; ${TOKEN_DEFAULTS.expire} when omitted`,
    example: TOKEN_DEFAULTS.expire,
  })
  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: 'must be a whole number of seconds' })
  @Min(1, { message: 'must be at least 1' })
  expire?: number;

  @ApiPropertyOptional({
    description: 'Claim names of username (required), name and email; default {"username": <name>}',
    type: FieldMapDto,
  })
  @IsOptional()
  @Transform(toNested(FieldMapDto))
  @IsObject({ message: 'must be an object' })
  @ValidateNested()
  fieldmap?: FieldMapDto;

  @ApiPropertyOptional({
    description: `Signing algorithm; ${TOKEN_DEFAULTS.algorithm} when omitted`,
    example: TOKEN_DEFAULTS.algorithm,
  })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.toUpperCase() : value))
  @IsIn(TOKEN_ALGORITHMS, { message: `must be one of ${TOKEN_ALGORITHMS.join(', ')}` })
  algorithm?: (typeof TOKEN_ALGORITHMS)[number];

  @ApiPropertyOptional({
    description:
      'Who holds the signing key. "issuer": the secret is the key (HS*) or the issuer\'s public key (RS*/ES*). ' +
      '"service" (RS*/ES* only): the service makes a key pair, signs mints with it and publishes its public key at /.well-known/jwks.json; ' +
      "the secret is then only what generate's privateKey must match. Kept when omitted; 'issuer' on create.",
    example: 'issuer',
  })
  @IsOptional()
  @IsIn(KEY_HOLDERS, { message: `must be one of ${KEY_HOLDERS.join(', ')}` })
  keyholder?: KeyHolder;

  @ApiPropertyOptional({
    description: `"1" enabled, "0" disabled; "${TOKEN_DEFAULTS.enable}" when omitted`,
    example: '1',
  })
  @IsOptional()
  @Transform(toFlag)
  @IsFlag()
  enable?: '1' | '0';

  @ApiPropertyOptional({
    description: `Create unknown users on first use; "${TOKEN_DEFAULTS.inituser}" when omitted`,
    example: TOKEN_DEFAULTS.inituser,
  })
  @IsOptional()
  @Transform(toFlag)
  @IsFlag()
  inituser?: '1' | '0';

  @ApiPropertyOptional({
    description:
      'User type and roles given to users created through this configuration; never Administrator (400); ' +
      `${JSON.stringify(TOKEN_DEFAULTS.initroles)} when omitted`,
    type: [String],
    example: TOKEN_DEFAULTS.initroles,
  })
  @IsOptional()
  @Transform(toStringList)
  @IsStringList(64, 64)
  initroles?: string[];

  @ApiPropertyOptional({
    description: `Initial password of users created through this configuration (stored hashed). Omit or send ${MASK} to keep; an empty string clears it.`,
    format: 'password',
    example: 'first-login-2026',
  })
  @AllowEmpty()
  @IsNonEmptyString(256)
  @MinLength(8, { message: 'must be at least 8 characters long' })
  initpwd?: string;

  // What `content` answers beyond the fields above, so that its answer can be posted back here as
  // it is (a generated client's types, and a strict one's checks, then take it): accepted, ignored.
  @ApiPropertyOptional({ description: 'As content answers it; ignored', example: true })
  @IsOptional()
  @IsBoolean({ message: 'must be a boolean' })
  success?: boolean;

  @ApiPropertyOptional({
    description: 'As content answers it; ignored (rotate changes the key versions)',
    type: [KeyVersionViewDto],
  })
  @IsOptional()
  @IsArray({ message: 'must be an array' })
  @IsObject({ each: true, message: 'must be an array of objects' })
  keys?: KeyVersionViewDto[];

  @ApiPropertyOptional({ description: 'As content answers it (epoch milliseconds); ignored' })
  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  createdDate?: number;

  @ApiPropertyOptional({ description: 'As content answers it (epoch milliseconds); ignored' })
  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  lastModifiedDate?: number;

  @ApiPropertyOptional({ description: 'As content answers it; ignored', example: 'admin' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  creatorId?: string;
}

import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString } from 'class-validator';
import {
  IsFlag,
  IsNonEmptyString,
  IsStringList,
  IsUsername,
  MaxLength,
  MinLength,
} from '../../common/validation/decorators';
import { toFlag, toStringList } from '../../common/validation/transforms';
import { canonicalUserType, USER_TYPES } from '../user-types';

const profile = (description: string) =>
  applyDecorators(
    ApiPropertyOptional({ description }),
    IsOptional(),
    IsString({ message: 'must be a string' }),
    MaxLength(256, { message: 'must be at most 256 characters long' }),
  );

/** `POST /user/insertOrUpdate`: creates the user, or changes the fields given (JSON or form). */
export class UpsertUserDto {
  @ApiProperty({
    description: 'Username: 1-128 characters without spaces or colons',
    example: 'alice',
  })
  @IsUsername()
  username: string;

  @ApiPropertyOptional({
    description: 'Password (required on create), 8-256 characters',
    format: 'password',
  })
  @IsOptional()
  @IsNonEmptyString(256)
  @MinLength(8, { message: 'must be at least 8 characters long' })
  password?: string;

  @profile("User's name") name?: string;
  @profile('Email address') email?: string;
  @profile('Mobile number') mobile?: string;
  @profile('Department name') dept?: string;
  @profile('Title') title?: string;
  @profile('Company name') company?: string;
  @profile('Date of birth') dob?: string;
  @profile('Description') description?: string;

  @ApiPropertyOptional({
    description: 'User type, any letter case; default SYS_Reader on create',
  })
  @IsOptional()
  @Transform(({ value }) => canonicalUserType(value) ?? value)
  @IsIn(USER_TYPES, { message: `must be one of ${USER_TYPES.join(', ')}` })
  usertype?: string;

  @ApiPropertyOptional({
    description: 'Business roles: an array, or in a form a string joined with &',
    type: [String],
    example: ['Manager'],
  })
  @IsOptional()
  @Transform(toStringList)
  @IsStringList(64, 64)
  roles?: string[];

  @ApiPropertyOptional({
    description: '"1" enabled (default on create), "0" disabled',
  })
  @IsOptional()
  @Transform(toFlag)
  @IsFlag()
  enabled?: '1' | '0';
}

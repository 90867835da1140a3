import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';
import { IsFlag } from '../../common/validation/decorators';
import { toFlag, toInteger } from '../../common/validation/transforms';
import { decodeUserCursor } from '../user-cursor';
import { canonicalUserType, USER_TYPES } from '../user-types';

/** Matching users counted at most: a count that walks a whole large user table would cost every page. */
export const USER_COUNT_LIMIT = 10000;

export const USER_CURSOR_RULE = 'must be the `next` of an earlier answer';

/** `GET /user/list`: filters and paging, by username. Without `size` or `cursor`, every user. */
export class UserListQueryDto {
  @ApiPropertyOptional({ description: 'User type, any letter case' })
  @IsOptional()
  @Transform(({ value }) => canonicalUserType(value) ?? value)
  @IsIn(USER_TYPES, { message: `must be one of ${USER_TYPES.join(', ')}` })
  usertype?: string;

  @ApiPropertyOptional({
    description: '"1" enabled users only, "0" disabled ones',
  })
  @IsOptional()
  @Transform(toFlag)
  @IsFlag()
  enabled?: '1' | '0';

  @ApiPropertyOptional({
    description:
      'Continues after the page whose answer gave it as `next`; send the same filters and size',
  })
  @IsOptional()
  @ValidateBy({
    name: 'isUserCursor',
    validator: {
      validate: (value) => typeof value === 'string' && decodeUserCursor(value) !== undefined,
      defaultMessage: () => USER_CURSOR_RULE,
    },
  })
  cursor?: string;

  @ApiPropertyOptional({
    description: 'Users per page (default 50 with a cursor); without size or cursor, every user',
  })
  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: 'must be from 1 to 500' })
  @Min(1, { message: 'must be from 1 to 500' })
  @Max(500, { message: 'must be from 1 to 500' })
  size?: number;
}

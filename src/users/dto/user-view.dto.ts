import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { USER_TYPES } from '../user-types';
import { USER_COUNT_LIMIT } from './user-list-query.dto';
import { UserEntity } from '../entities/user.entity';

/** A user as answered: never a password hash. */
export class UserViewDto {
  @ApiProperty({ example: '0b6f7d0e-5c7a-4a8e-9a59-1a4f7c5d2e11' }) userid: string;
  @ApiProperty({ example: 'alice' }) username: string;
  @ApiPropertyOptional({ nullable: true, type: String }) name: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) email: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) mobile: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) dept: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) title: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) company: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) dob: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ enum: ['1', '0'] }) enabled: '1' | '0';
  @ApiProperty({ enum: USER_TYPES }) usertype: string;
  @ApiProperty({ type: [String], example: ['Manager'] }) roles: string[];
  @ApiProperty({ description: 'epoch milliseconds' }) createdDate: number;
  @ApiProperty({ description: 'epoch milliseconds' }) lastModifiedDate: number;

  static of(user: UserEntity): UserViewDto {
    return {
      userid: user.id,
      username: user.username,
      name: user.name,
      email: user.email,
      mobile: user.mobile,
      dept: user.dept,
      title: user.title,
      company: user.company,
      dob: user.dob,
      description: user.description,
      enabled: user.enabled ? '1' : '0',
      usertype: user.usertype,
      roles: user.roles,
      createdDate: user.createdDate,
      lastModifiedDate: user.lastModifiedDate,
    };
  }
}

export class UserListResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [UserViewDto] }) data: UserViewDto[];
  @ApiPropertyOptional({
    description: `Paged answers only: users matching the filters, counted up to ${USER_COUNT_LIMIT} (see \`totalExact\`)`,
  })
  total?: number;
  @ApiPropertyOptional({
    description: `Paged answers only: false when more than ${USER_COUNT_LIMIT} users match; \`total\` then says ${USER_COUNT_LIMIT}`,
  })
  totalExact?: boolean;
  @ApiPropertyOptional({ description: 'Paged answers only: users per page' }) size?: number;
  @ApiPropertyOptional({
    description:
      'Send as `cursor` (with the same filters and size) for the next page; absent on the last',
  })
  next?: string;
}

export class UserDetailDataDto {
  @ApiPropertyOptional({ type: UserViewDto, description: 'Absent for an anonymous caller' })
  user?: UserViewDto;
}

export class UserDetailResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: UserDetailDataDto }) data: UserDetailDataDto;
}

export class UpsertUserResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 'alice' }) username: string;
}

export class RoleTypeDto {
  @ApiProperty({ enum: USER_TYPES }) authority: string;
}

export class RoleTypesResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [RoleTypeDto] }) list: RoleTypeDto[];
}

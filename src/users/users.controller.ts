import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  Req,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiConsumes,
  ApiCookieAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { NoRateLimit } from '../common/http/no-rate-limit.decorator';
import type { HttpRequest } from '../common/http/http-request';
import { JsonOrFormOnlyGuard } from '../common/http/json-or-form-only.guard';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';
import {
  ApiErrors,
  type ErrorAnswer,
  invalidField,
  SIGN_IN_THROTTLED,
  WRONG_CREDENTIALS,
} from '../common/http/api-errors.decorator';
import { ApiOptionalAuth, ApiPublic } from '../common/http/openapi';
import { createValidationPipe } from '../common/validation/validation.pipe';
import { AdminOnly } from '../access/admin-only.decorator';
import { PrincipalService } from '../access/principal.service';
import { SuccessMsgResponseDto } from '../common/http/success-msg-response.dto';
import { UpsertUserDto } from './dto/upsert-user.dto';
import {
  RoleTypesResponseDto,
  UpsertUserResponseDto,
  UserDetailResponseDto,
  UserListResponseDto,
  UserViewDto,
} from './dto/user-view.dto';
import { UserListQueryDto, USER_CURSOR_RULE } from './dto/user-list-query.dto';
import { UsernameDto } from './dto/username.dto';
import { decodeUserCursor } from './user-cursor';
import { USER_TYPES, type UserType } from './user-types';
import { type UserFilters, UsersService } from './users.service';

const DEFAULT_PAGE_SIZE = 50;
const JSON_OR_FORM = ['application/json', 'application/x-www-form-urlencoded'];
const USERNAME_INVALID = invalidField('username', 'must be a non-empty string');
const LAST_ADMINISTRATOR: ErrorAnswer = {
  status: 409,
  msg: 'the last enabled Administrator cannot be removed, disabled or demoted',
};

@ApiTags('users')
@ApiBasicAuth('basic')
@ApiCookieAuth('session')
@ApiErrors(500, 503)
@Controller('plugin/datafor-modeler/api')
@UsePipes(createValidationPipe())
@UseFilters(EnvelopeExceptionFilter)
// JsonOrFormOnlyGuard is bound on each route, above its @AdminOnly(): a controller's guards run
// before its routes' ones, and AdminGuard's 401 and 403 come before the 415.
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly principals: PrincipalService,
  ) {}

  @Get('user/detail')
  @UseGuards(JsonOrFormOnlyGuard)
  @NoRateLimit()
  @ApiOptionalAuth('basic', 'session', 'bearer', 'token-query')
  @ApiOperation({
    operationId: 'getCurrentUser',
    summary: 'The caller; data is {} for an anonymous caller',
    description:
      'Who the credentials sent (Basic, the session cookie or a token, in a header or the query) sign in, ' +
      'without password hash. Outside the rate limit.',
  })
  @ApiOkResponse({ description: 'The caller, or {} when anonymous', type: UserDetailResponseDto })
  @ApiErrors(
    {
      status: 401,
      description: 'Credentials or a token were sent and are wrong, expired or revoked',
      msg: 'wrong username or password',
    },
    SIGN_IN_THROTTLED,
    503,
  )
  async detail(@Req() request: HttpRequest): Promise<UserDetailResponseDto> {
    const principal = this.principals.of(request);
    const user = principal ? await this.users.findByUsername(principal.username) : null;
    return { success: true, data: user ? { user: UserViewDto.of(user) } : {} };
  }

  @Post('user/insertOrUpdate')
  @HttpCode(200)
  @UseGuards(JsonOrFormOnlyGuard)
  @AdminOnly()
  @ApiOperation({
    operationId: 'saveUser',
    summary: 'Create a user, or change the fields given',
    description:
      'A new username needs a password; for an existing user, the fields left out keep their values and an empty ' +
      'profile field clears it. The last enabled Administrator cannot be disabled or demoted.',
  })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiOkResponse({
    description: 'The user is created or updated; username is the stored form (NFC)',
    type: UpsertUserResponseDto,
  })
  @ApiErrors(USERNAME_INVALID, 401, 403, LAST_ADMINISTRATOR, 413, 415, 429, 503)
  async insertOrUpdate(
    @Body() dto: UpsertUserDto,
    @Req() request: HttpRequest,
  ): Promise<UpsertUserResponseDto> {
    await this.users.insertOrUpdate(dto, this.principals.actor(request));
    return { success: true, username: dto.username };
  }

  @Post('user/delete')
  @HttpCode(200)
  @UseGuards(JsonOrFormOnlyGuard)
  @AdminOnly()
  @ApiOperation({
    operationId: 'deleteUser',
    summary: 'Delete a user (never the last enabled Administrator)',
    description: 'Removes the user called username; the deletion is audited.',
  })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiOkResponse({ description: 'The user is deleted', type: SuccessMsgResponseDto })
  @ApiErrors(
    USERNAME_INVALID,
    401,
    403,
    { status: 404, msg: 'user alice does not exist' },
    LAST_ADMINISTRATOR,
    413,
    415,
    429,
    503,
  )
  async delete(
    @Body() dto: UsernameDto,
    @Req() request: HttpRequest,
  ): Promise<SuccessMsgResponseDto> {
    await this.users.delete(dto.username, this.principals.actor(request));
    return { success: true };
  }

  @Get('user/list')
  @UseGuards(JsonOrFormOnlyGuard)
  @AdminOnly()
  @ApiOperation({
    operationId: 'listUsers',
    summary: 'Users by username, without password hashes',
    description:
      'A page at a time with `size` or `cursor` (then `total`, `totalExact`, `size` and `next`); ' +
      'without either, every user at once (older clients).',
  })
  @ApiOkResponse({ description: 'The users, or a page of them', type: UserListResponseDto })
  @ApiErrors(invalidField('cursor', USER_CURSOR_RULE), 401, 403, 429, 503)
  async list(@Query() query: UserListQueryDto): Promise<UserListResponseDto> {
    const filters: UserFilters = {
      usertype: query.usertype as UserType | undefined,
      enabled: query.enabled === undefined ? undefined : query.enabled === '1',
    };
    if (query.size === undefined && query.cursor === undefined) {
      const users = await this.users.list(filters);
      return { success: true, data: users.map(UserViewDto.of) };
    }
    const size = query.size ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor === undefined ? undefined : decodeUserCursor(query.cursor);
    const { users, ...paging } = await this.users.page(filters, size, after);
    return { success: true, data: users.map(UserViewDto.of), size, ...paging };
  }

  @Get('roles/types')
  @UseGuards(JsonOrFormOnlyGuard)
  @NoRateLimit()
  @ApiPublic()
  @ApiOperation({
    operationId: 'listUserTypes',
    summary: 'The user types',
    description:
      'The values usertype takes (SYS_Reader, SYS_Creator, Administrator); public and outside the rate limit.',
  })
  @ApiOkResponse({
    description: 'Every user type, each as an authority',
    type: RoleTypesResponseDto,
  })
  @ApiErrors(WRONG_CREDENTIALS, SIGN_IN_THROTTLED)
  types(): RoleTypesResponseDto {
    return { success: true, list: USER_TYPES.map((authority) => ({ authority })) };
  }
}

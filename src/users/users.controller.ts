import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Req,
  UseFilters,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiConsumes,
  ApiCookieAuth,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { NoRateLimit } from '../common/http/no-rate-limit.decorator';
import type { HttpRequest } from '../common/http/http-request';
import { JsonOrFormOnlyInterceptor } from '../common/http/json-or-form-only.interceptor';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { createValidationPipe } from '../common/validation/validation.pipe';
import { AdminOnly } from '../token/guards/admin-only.decorator';
import { PrincipalService } from '../token/principal.service';
import { SuccessMsgResponseDto } from '../token/dto/token-config-view.dto';
import { UpsertUserDto } from './dto/upsert-user.dto';
import {
  RoleTypesResponseDto,
  UpsertUserResponseDto,
  UserDetailResponseDto,
  UserListResponseDto,
  UserViewDto,
} from './dto/user-view.dto';
import { UsernameDto } from './dto/username.dto';
import { USER_TYPES } from './user-types';
import { UsersService } from './users.service';

const JSON_OR_FORM = ['application/json', 'application/x-www-form-urlencoded'];

@ApiTags('users')
@ApiBasicAuth('basic')
@ApiCookieAuth('session')
@Controller('plugin/datafor-modeler/api')
@UsePipes(createValidationPipe())
@UseFilters(EnvelopeExceptionFilter)
@UseInterceptors(JsonOrFormOnlyInterceptor)
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly principals: PrincipalService,
  ) {}

  @Get('user/detail')
  @NoRateLimit()
  @ApiBearerAuth('bearer')
  @ApiSecurity('token-query')
  @ApiOperation({ summary: 'The caller; data is {} for an anonymous caller' })
  @ApiOkResponse({ type: UserDetailResponseDto })
  async detail(@Req() request: HttpRequest): Promise<UserDetailResponseDto> {
    const principal = this.principals.of(request);
    const user = principal ? await this.users.findByUsername(principal.username) : null;
    return { success: true, data: user ? { user: UserViewDto.of(user) } : {} };
  }

  @Post('user/insertOrUpdate')
  @HttpCode(200)
  @AdminOnly()
  @ApiOperation({ summary: 'Create a user, or change the fields given' })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiOkResponse({ type: UpsertUserResponseDto })
  @ApiErrors(400, 401, 403, 409, 413, 415)
  async insertOrUpdate(
    @Body() dto: UpsertUserDto,
    @Req() request: HttpRequest,
  ): Promise<UpsertUserResponseDto> {
    await this.users.insertOrUpdate(dto, this.principals.actor(request));
    return { success: true, username: dto.username };
  }

  @Post('user/delete')
  @HttpCode(200)
  @AdminOnly()
  @ApiOperation({ summary: 'Delete a user (never the last enabled Administrator)' })
  @ApiConsumes(...JSON_OR_FORM)
  @ApiOkResponse({ type: SuccessMsgResponseDto })
  @ApiErrors(400, 401, 403, 404, 409, 413, 415)
  async delete(
    @Body() dto: UsernameDto,
    @Req() request: HttpRequest,
  ): Promise<SuccessMsgResponseDto> {
    await this.users.delete(dto.username, this.principals.actor(request));
    return { success: true };
  }

  @Get('user/list')
  @AdminOnly()
  @ApiOperation({ summary: 'Every user, without password hashes' })
  @ApiOkResponse({ type: UserListResponseDto })
  @ApiErrors(401, 403)
  async list(): Promise<UserListResponseDto> {
    return { success: true, data: (await this.users.list()).map(UserViewDto.of) };
  }

  @Get('roles/types')
  @NoRateLimit()
  @ApiOperation({ summary: 'The user types' })
  @ApiOkResponse({ type: RoleTypesResponseDto })
  types(): RoleTypesResponseDto {
    return { success: true, list: USER_TYPES.map((authority) => ({ authority })) };
  }
}

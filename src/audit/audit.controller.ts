import { Controller, Get, Query, UseFilters, UsePipes } from '@nestjs/common';
import { ApiBasicAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';
import { ApiErrors, invalidField } from '../common/http/api-errors.decorator';
import { createValidationPipe } from '../common/validation/validation.pipe';
import { AdminOnly } from '../access/admin-only.decorator';
import { AuditReader } from './audit-reader.service';
import { AuditListResponseDto, AuditQueryDto } from './dto/audit-query.dto';

@ApiTags('audit')
@ApiBasicAuth('basic')
@ApiCookieAuth('session')
@Controller('plugin/datafor-modeler/api/audit')
@AdminOnly()
@UsePipes(createValidationPipe())
@UseFilters(EnvelopeExceptionFilter)
export class AuditController {
  constructor(private readonly reader: AuditReader) {}

  @Get('list')
  @ApiOperation({
    summary: 'The audit trail: mints, revocations, configuration and user changes, logins',
  })
  @ApiOkResponse({ type: AuditListResponseDto })
  @ApiErrors(invalidField('size', 'must be from 1 to 500'), 401, 403, 503)
  async list(@Query() query: AuditQueryDto): Promise<AuditListResponseDto> {
    const { events, ...paging } = await this.reader.list(query);
    return { success: true, data: events, ...paging };
  }
}

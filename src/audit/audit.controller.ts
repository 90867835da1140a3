import { Readable } from 'node:stream';
import { Controller, Get, Query, StreamableFile, UseFilters, UsePipes } from '@nestjs/common';
import { ApiBasicAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';
import { ApiErrors, invalidField } from '../common/http/api-errors.decorator';
import { createValidationPipe } from '../common/validation/validation.pipe';
import { AdminOnly } from '../access/admin-only.decorator';
import { AuditReader } from './audit-reader.service';
import {
  AuditExportQueryDto,
  AuditListResponseDto,
  AuditQueryDto,
  CURSOR_RULE,
} from './dto/audit-query.dto';

@ApiTags('audit')
@ApiBasicAuth('basic')
@ApiCookieAuth('session')
@ApiErrors(429, 500)
@Controller('plugin/datafor-modeler/api/audit')
@AdminOnly()
@UsePipes(createValidationPipe())
@UseFilters(EnvelopeExceptionFilter)
export class AuditController {
  constructor(private readonly reader: AuditReader) {}

  @Get('list')
  @ApiOperation({
    operationId: 'listAuditEvents',
    summary: 'The audit trail: mints, revocations, configuration and user changes, logins',
    description:
      'Events filtered by action, actor, target and time, a page at a time: by `page` number, or by the `cursor` ' +
      'that an answer gives as `next`.',
  })
  @ApiOkResponse({
    description:
      'A page of events, with the count of those matching and the cursor of the next page',
    type: AuditListResponseDto,
  })
  @ApiErrors(invalidField('size', 'must be from 1 to 500'), 401, 403, 503)
  async list(@Query() query: AuditQueryDto): Promise<AuditListResponseDto> {
    const { events, ...paging } = await this.reader.list(query);
    return { success: true, data: events, ...paging };
  }

  @Get('export')
  @ApiOperation({
    operationId: 'exportAuditEvents',
    summary: 'The audit trail as NDJSON, oldest first, for a SIEM',
    description:
      'One event per line, with the `cursor` that continues after it: poll again with the last ' +
      "line's cursor to get what came since. Same filters as `list`; ends at the events stored " +
      'when the request began.',
  })
  @ApiOkResponse({
    description: 'One event per line (the fields of `list`), plus `cursor`',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  @ApiErrors(invalidField('cursor', CURSOR_RULE), 401, 403, 503)
  export(@Query() query: AuditExportQueryDto): StreamableFile {
    return new StreamableFile(Readable.from(this.reader.export(query)), {
      type: 'application/x-ndjson; charset=utf-8',
    });
  }
}

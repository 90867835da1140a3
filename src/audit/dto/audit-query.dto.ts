import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';
import { decodeCursor } from '../audit-cursor';
import { IsNonEmptyString } from '../../common/validation/decorators';
import { toInteger } from '../../common/validation/transforms';

const optionalInteger = (description: string, min: number, max: number, message: string) =>
  applyDecorators(
    ApiPropertyOptional({ description }),
    IsOptional(),
    Transform(toInteger),
    IsInt({ message }),
    Min(min, { message }),
    Max(max, { message }),
  );

/** Matching events counted at most: a count that walks a whole large trail would cost every page. */
export const AUDIT_COUNT_LIMIT = 10000;

export const CURSOR_RULE = 'must be the `next` of an earlier answer';

/** `GET /audit/list`: filters and paging, newest first. */
export class AuditQueryDto {
  @ApiPropertyOptional({
    description: 'e.g. token.mint, token.update, token.revoke, user.create, session.login',
    example: 'token.mint',
  })
  @IsOptional()
  @IsNonEmptyString(32)
  action?: string;

  @ApiPropertyOptional({ description: 'Username of who acted', example: 'admin' })
  @IsOptional()
  @IsNonEmptyString(128)
  actor?: string;

  @ApiPropertyOptional({
    description: 'Configuration, user or token id acted upon',
    example: 'ERP',
  })
  @IsOptional()
  @IsNonEmptyString(256)
  target?: string;

  @optionalInteger(
    'From this instant, epoch ms (inclusive)',
    0,
    8.64e15,
    'must be epoch milliseconds',
  )
  from?: number;

  @optionalInteger(
    'Until this instant, epoch ms (exclusive)',
    0,
    8.64e15,
    'must be epoch milliseconds',
  )
  to?: number;

  @optionalInteger('Page number, from 1 (default 1)', 1, 1000000, 'must be a page number from 1')
  page?: number;

  @ApiPropertyOptional({
    description:
      'Continues after the page whose answer gave it as `next`; send the same filters and size. ' +
      'Not with `page`.',
  })
  @IsOptional()
  @ValidateBy({
    name: 'isAuditCursor',
    validator: {
      validate: (value) => typeof value === 'string' && decodeCursor(value) !== undefined,
      defaultMessage: () => CURSOR_RULE,
    },
  })
  cursor?: string;

  @optionalInteger('Events per page (default 50)', 1, 500, 'must be from 1 to 500')
  size?: number;
}

/** `GET /audit/export`: the list's filters and cursor, without paging. */
export class AuditExportQueryDto extends OmitType(AuditQueryDto, ['page', 'size'] as const) {}

export class AuditEventDto {
  @ApiProperty() id: number;
  @ApiProperty({ description: 'epoch milliseconds' }) at: number;
  @ApiProperty({ example: 'admin' }) actor: string;
  @ApiProperty({ example: 'token.mint' }) action: string;
  @ApiProperty({ example: 'ERP' }) target: string;
  @ApiPropertyOptional({ nullable: true, type: String, example: '127.0.0.1' }) client:
    string | null;
  @ApiProperty({ enum: ['success', 'failure'] }) outcome: string;
  // What AuditService records: flat values only (AuditEntry.details), typed so that clients
  // generated from the document read them without a cast.
  @ApiPropertyOptional({
    nullable: true,
    type: 'object',
    description: "The action's particulars, e.g. token.mint: username, jti, userCreated",
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    example: { username: 'alice', jti: 'b0d5c1d2-8f0e-4d47-9a55-3f1f0f7c9e21', userCreated: true },
  })
  details: Record<string, string | number | boolean> | null;
}

export class AuditListResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [AuditEventDto] }) data: AuditEventDto[];
  @ApiProperty({
    description: `Events matching the filters, counted up to ${AUDIT_COUNT_LIMIT}: see \`totalExact\``,
  })
  total: number;
  @ApiProperty({
    description: `false when more than ${AUDIT_COUNT_LIMIT} events match: \`total\` then says ${AUDIT_COUNT_LIMIT}`,
  })
  totalExact: boolean;
  @ApiProperty() page: number;
  @ApiProperty() size: number;
  @ApiPropertyOptional({
    description:
      'Send as `cursor` (with the same filters and size) for the next page; absent on the last',
  })
  next?: string;
}

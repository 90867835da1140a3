import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TokenConfigEntity } from '../entities/token-config.entity';
import type { TokenKeyEntity } from '../entities/token-key.entity';
import { KEY_HOLDERS, MASK, TOKEN_ALGORITHMS } from '../token.constants';
import { FieldMapDto } from './field-map.dto';
import { KeyVersionViewDto } from './key-version-view.dto';

const seconds = (millis: number) => Math.floor(millis / 1000);

/** A configuration as answered: secret and initial password always masked. */
export class TokenConfigViewDto {
  @ApiProperty({ example: 'ERP' }) name: string;
  @ApiProperty({ example: 'token' }) token_name: string;
  @ApiProperty({ example: MASK }) secret: string;
  @ApiProperty({ example: 86400, type: 'integer' }) expire: number;
  @ApiProperty({ type: FieldMapDto }) fieldmap: FieldMapDto;
  @ApiProperty({ enum: TOKEN_ALGORITHMS }) algorithm: string;
  @ApiProperty({ enum: KEY_HOLDERS }) keyholder: string;
  @ApiProperty({
    type: [KeyVersionViewDto],
    description: "The live key versions, current first: two or more during a rotation's overlap",
  })
  keys: KeyVersionViewDto[];
  @ApiProperty({ enum: ['1', '0'] }) enable: '1' | '0';
  @ApiProperty({ enum: ['1', '0'] }) inituser: '1' | '0';
  @ApiProperty({ type: [String], example: ['SYS_Reader'] }) initroles: string[];
  @ApiPropertyOptional({
    example: MASK,
    description: 'Present, masked, when an initial password is set',
  })
  initpwd?: string;
  @ApiProperty({ description: 'epoch milliseconds', type: 'integer' }) createdDate: number;
  @ApiProperty({ description: 'epoch milliseconds', type: 'integer' }) lastModifiedDate: number;
  @ApiProperty({ example: 'admin' }) creatorId: string;

  /** @param previous the configuration's rows in `token_keys`; the retired ones are left out */
  static of(
    config: TokenConfigEntity,
    previous: readonly TokenKeyEntity[],
    now: number,
  ): TokenConfigViewDto {
    const created = config.keyCreated ?? config.createdDate;
    const current: KeyVersionViewDto = {
      kid: config.kid ?? config.name,
      created: seconds(created),
      signsFrom: seconds(config.signsFrom ?? created),
    };
    const keys = [
      current,
      ...previous
        .filter((row) => row.retires > now)
        .map((row) => ({
          kid: row.kid,
          created: seconds(row.created),
          signsFrom: seconds(row.signsFrom),
          retires: seconds(row.retires),
        })),
    ];
    return {
      name: config.name,
      token_name: config.tokenName,
      secret: MASK,
      expire: config.expire,
      fieldmap: config.fieldmap,
      algorithm: config.algorithm,
      keyholder: config.keyholder,
      keys,
      enable: config.enabled ? '1' : '0',
      inituser: config.initUser ? '1' : '0',
      initroles: config.initRoles,
      ...(config.initPasswordHash ? { initpwd: MASK } : {}),
      createdDate: config.createdDate,
      lastModifiedDate: config.lastModifiedDate,
      creatorId: config.creatorId,
    };
  }
}

export class TokenConfigListResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [TokenConfigViewDto] }) data: TokenConfigViewDto[];
}

export class TokenConfigContentResponseDto extends TokenConfigViewDto {
  @ApiProperty({ example: true }) success: true;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TokenConfigEntity } from '../entities/token-config.entity';
import { MASK, TOKEN_ALGORITHMS } from '../token.constants';
import { FieldMapDto } from './field-map.dto';

/** A configuration as answered: secret and initial password always masked. */
export class TokenConfigViewDto {
  @ApiProperty({ example: 'ERP' }) name: string;
  @ApiProperty({ example: 'token' }) token_name: string;
  @ApiProperty({ example: MASK }) secret: string;
  @ApiProperty({ example: 86400, type: 'integer' }) expire: number;
  @ApiProperty({ type: FieldMapDto }) fieldmap: FieldMapDto;
  @ApiProperty({ enum: TOKEN_ALGORITHMS }) algorithm: string;
  @ApiProperty({ enum: ['1', '0'] }) enable: '1' | '0';
  @ApiProperty({ enum: ['1', '0'] }) inituser: '1' | '0';
  @ApiProperty({ type: [String], example: ['SYS_Reader'] }) initroles: string[];
  @ApiPropertyOptional({
    example: MASK,
    description: 'Present, masked, when an initial password is set',
  })
  initpwd?: string;
  @ApiProperty({ description: 'epoch milliseconds' }) createdDate: number;
  @ApiProperty({ description: 'epoch milliseconds' }) lastModifiedDate: number;
  @ApiProperty({ example: 'admin' }) creatorId: string;

  static of(config: TokenConfigEntity): TokenConfigViewDto {
    return {
      name: config.name,
      token_name: config.tokenName,
      secret: MASK,
      expire: config.expire,
      fieldmap: config.fieldmap,
      algorithm: config.algorithm,
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

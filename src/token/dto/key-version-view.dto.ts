import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One live key version of a configuration: never its key. Instants in epoch seconds. */
export class KeyVersionViewDto {
  @ApiProperty({ example: 'ERP.q3Zt8xYb', description: 'The kid its tokens carry' }) kid: string;
  @ApiProperty({ type: 'integer', example: 1796000000 }) created: number;
  @ApiProperty({
    type: 'integer',
    example: 1796000000,
    description: 'From when it signs mints (a service-held key is published first)',
  })
  signsFrom: number;
  @ApiPropertyOptional({
    type: 'integer',
    example: 1796086400,
    description: 'When it stops verifying; absent for the current version',
  })
  retires?: number;
}

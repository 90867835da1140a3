import { ApiProperty } from '@nestjs/swagger';
import { IsConfigName } from '../../common/validation/decorators';

export class TokenConfigNameDto {
  @ApiProperty({ description: 'Name of the token configuration', example: 'ERP' })
  @IsConfigName()
  name: string;
}

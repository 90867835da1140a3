import { ApiProperty } from '@nestjs/swagger';
import { IsUsername } from '../../common/validation/decorators';

export class UsernameDto {
  @ApiProperty({ description: 'Username', example: 'alice' })
  @IsUsername()
  username: string;
}

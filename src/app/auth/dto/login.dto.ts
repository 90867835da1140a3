import { ApiProperty } from '@nestjs/swagger';
import { IsNonEmptyString, IsUsername } from '../../../common/validation/decorators';

export class LoginDto {
  @ApiProperty({ example: 'admin' })
  @IsUsername()
  username: string;

  @ApiProperty({ format: 'password' })
  @IsNonEmptyString(256)
  password: string;
}

export class LoginResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({
    example: '1',
    description: '"1" a new session, "2" the cookie already held a live one',
  })
  data: '1' | '2';
  @ApiProperty({ example: 'success' }) msg: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsNotEmpty, IsObject, IsString, ValidateNested } from 'class-validator';
import { IsConfigName, MaxLength, NON_EMPTY_STRING } from '../../common/validation/decorators';
import { toJsonObject } from '../../common/validation/transforms';
import { TokenPayloadDto } from './token-payload.dto';
import { EXAMPLE_SECRET } from './update-token-config.dto';

/**
 * What Swagger UI offers to send: a token for an ordinary user, claims a person would set, no
 * placeholders, with the secret that update's example stores.
 */
export const GENERATE_TOKEN_EXAMPLE = {
  name: 'ERP',
  privateKey: EXAMPLE_SECRET,
  payload: {
    username: 'alice',
    name: 'Alice Martin',
    roles: ['SYS_Reader', 'Sales'],
    email: 'alice@example.com',
    company: 'Example Trading Ltd',
    dept: 'Sales',
  },
};

/** `POST /token/generate`: the seed's body. */
export class GenerateTokenDto {
  @ApiProperty({
    description: 'Name of the token.',
    example: 'ERP',
  })
  @IsConfigName()
  name: string;

  @ApiProperty({
    description: 'Private key associated with the token.',
    example: EXAMPLE_SECRET,
    format: 'password',
  })
  @IsString({ message: NON_EMPTY_STRING })
  @IsNotEmpty({ message: NON_EMPTY_STRING })
  @MaxLength(8192, { message: 'must be at most 8192 characters long' })
  privateKey: string;

  @ApiProperty({
    description: 'The payload object containing user and role info.',
    type: TokenPayloadDto,
  })
  @Transform((params) => TokenPayloadDto.fromPlain(toJsonObject(params)))
  @Type(() => TokenPayloadDto)
  @IsObject({ message: 'must be an object' })
  @ValidateNested()
  payload: TokenPayloadDto;
}

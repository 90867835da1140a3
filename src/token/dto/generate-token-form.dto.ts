import { ApiPropertyOptional, IntersectionType, OmitType, PickType } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { ApiAdditionalProperties } from '../../common/http/openapi';
import { IsFormStringList } from '../../common/validation/decorators';
import { GenerateTokenDto } from './generate-token.dto';
import { TokenPayloadDto } from './token-payload.dto';

/**
 * The older form-urlencoded shape of generate, as documented: the payload's fields flat beside
 * `name` and `privateKey` (FlatFormPayloadBody folds them into `payload`), custom claims too, as
 * text. The user's own `name` cannot travel flat, since `name` names the configuration there.
 */
@ApiAdditionalProperties({ type: 'string' })
export class GenerateTokenFormDto extends IntersectionType(
  PickType(GenerateTokenDto, ['name', 'privateKey'] as const),
  OmitType(TokenPayloadDto, ['name', 'roles', 'customClaims'] as const),
) {
  @ApiPropertyOptional({
    description: 'List of user roles, one field each.',
    type: [String],
    example: ['SYS_Reader', 'Sales'],
  })
  @IsOptional()
  @IsFormStringList(64, 64)
  roles?: string[];
}

import { IntersectionType, OmitType, PickType } from '@nestjs/swagger';
import { GenerateTokenDto } from './generate-token.dto';
import { TokenPayloadDto } from './token-payload.dto';

/**
 * The older form-urlencoded shape of generate, as documented: the payload's fields flat beside
 * `name` and `privateKey` (FlatFormPayloadBody folds them into `payload`). The user's own
 * `name` cannot travel flat, since `name` names the configuration there.
 */
export class GenerateTokenFormDto extends IntersectionType(
  PickType(GenerateTokenDto, ['name', 'privateKey'] as const),
  OmitType(TokenPayloadDto, ['name', 'customClaims'] as const),
) {}

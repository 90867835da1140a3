import { ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, NotContains } from 'class-validator';
import { IsFormStringList } from '../../common/validation/decorators';
import { TOKEN_DEFAULTS } from '../token.constants';
import { CLAIM_NAME } from './field-map.dto';
import { UpdateTokenConfigDto } from './update-token-config.dto';

const claim = CLAIM_NAME.source.slice(1, -1);
/** A field map as JSON text, as this document writes it: compact, its keys in this order. */
const FIELD_MAP_JSON = new RegExp(
  `^\\{"username":"${claim}"(?:,"name":"${claim}")?(?:,"email":"${claim}")?\\}$`,
);

/**
 * The form-urlencoded shape of update: a form has no objects, so `fieldmap` is JSON text, and no
 * fields of content's answer (which only a JSON client posts back). It documents the form; the
 * server validates either shape with UpdateTokenConfigDto (toNested reads the JSON text).
 */
export class UpdateTokenConfigFormDto extends OmitType(UpdateTokenConfigDto, [
  'fieldmap',
  'initroles',
  'success',
  'keys',
  'createdDate',
  'lastModifiedDate',
  'creatorId',
] as const) {
  @ApiPropertyOptional({
    description:
      'Claim names of username (required), name and email, as JSON text; default {"username": <name>}',
    example: '{"username":"ERP","name":"name","email":"email"}',
  })
  @IsOptional()
  @IsString({ message: 'must be an object' })
  @Matches(FIELD_MAP_JSON, { message: 'must be an object' })
  @NotContains('__proto__', { message: 'must be a claim name' })
  fieldmap?: string;

  @ApiPropertyOptional({
    description:
      'User type and roles given to users created through this configuration, one field each; never Administrator (400); ' +
      `${JSON.stringify(TOKEN_DEFAULTS.initroles)} when omitted`,
    type: [String],
    example: TOKEN_DEFAULTS.initroles,
  })
  @IsOptional()
  @IsFormStringList(64, 64)
  initroles?: string[];
}

import { FieldError } from '../common/http/error-envelope';
import { FieldsBadRequestException } from '../common/http/bad-request';
import type { TokenPayloadDto } from './dto/token-payload.dto';
import type { FieldMap } from './entities/token-config.entity';
import { REGISTERED_CLAIMS } from './token.constants';

export type ClaimValue = string | string[];
export type Claims = Record<string, ClaimValue>;

const MAPPED_FIELDS = ['username', 'name', 'email'] as const;
const NEVER_A_CLAIM = new Set(['password', 'customClaims']);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_CUSTOM_CLAIMS = 64;
const MAX_CLAIM_STRING = 1024;

/**
 * The claims of a token minted for `payload`: every payload field but the password, `username`,
 * `name` and `email` under the configuration's claim names, arrays as arrays, other values as strings.
 */
export function buildClaims(payload: TokenPayloadDto, fieldmap: FieldMap): Claims {
  const claims: Claims = {};
  const errors: FieldError[] = [];
  const put = (field: string, claim: string, value: ClaimValue) => {
    if (Object.prototype.hasOwnProperty.call(claims, claim)) {
      errors.push({
        field: `payload.${field}`,
        message: `travels as claim "${claim}", which another field already sets`,
      });
    } else {
      claims[claim] = value;
    }
  };

  for (const field of MAPPED_FIELDS) {
    const value = payload[field];
    if (value !== undefined) put(field, fieldmap[field] ?? field, value);
  }
  for (const [field, value] of Object.entries(payload)) {
    if (
      value === undefined ||
      NEVER_A_CLAIM.has(field) ||
      (MAPPED_FIELDS as readonly string[]).includes(field)
    )
      continue;
    put(field, field, value as ClaimValue);
  }

  const custom = Object.entries(payload.customClaims ?? {});
  if (custom.length > MAX_CUSTOM_CLAIMS) {
    errors.push({
      field: 'payload',
      message: `may carry at most ${MAX_CUSTOM_CLAIMS} custom claims`,
    });
  }
  for (const [key, value] of custom.slice(0, MAX_CUSTOM_CLAIMS)) {
    const field = `payload.${key}`;
    if (REGISTERED_CLAIMS.has(key)) {
      errors.push({ field, message: 'is a registered JWT claim and cannot be set in a payload' });
    } else if (UNSAFE_KEYS.has(key) || key.length > 64 || /[\u0000-\u001f]/.test(key)) {
      errors.push({ field, message: 'is not an acceptable claim name' });
    } else {
      const claim = customClaimValue(value);
      if (claim === undefined)
        errors.push({ field, message: 'must be a string, number, boolean or array of strings' });
      else if (tooLong(claim))
        errors.push({ field, message: `must be at most ${MAX_CLAIM_STRING} characters long` });
      else put(key, key, claim);
    }
  }
  if (errors.length > 0) throw new FieldsBadRequestException(errors);
  return claims;
}

function customClaimValue(value: unknown): ClaimValue | undefined {
  if (typeof value === 'string') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')
    return String(value);
  if (
    Array.isArray(value) &&
    value.length <= 64 &&
    value.every((item) => typeof item === 'string')
  ) {
    return value as string[];
  }
  return undefined;
}

function tooLong(claim: ClaimValue): boolean {
  return (Array.isArray(claim) ? claim : [claim]).some((item) => item.length > MAX_CLAIM_STRING);
}

import { type OpenAPIObject } from '@nestjs/swagger';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { EMPTY_MEANS_CLEAR, NUL_FREE_PATTERN, USERNAME_PATTERN } from './decorators';

/** @nestjs/swagger's metadata key of a property's `@ApiProperty` options. */
const API_MODEL_PROPERTIES = 'swagger/apiModelProperties';

type Keywords = Record<string, unknown>;
type Constructor = abstract new (...args: never[]) => unknown;

/**
 * What each class-validator rule (by its name, as the metadata storage has it) states in JSON
 * Schema. Every rule a request DTO uses must be here: an unknown one stops the document being built,
 * so that no rule goes undocumented. Custom rules (`ValidateBy`) are named here too.
 */
const RULES: Record<string, (constraints: unknown[], schema: Keywords) => void> = {
  isString: (_, schema) => {
    schema.type = 'string';
  },
  isInt: (_, schema) => {
    schema.type = 'integer';
  },
  isBoolean: (_, schema) => {
    schema.type = 'boolean';
  },
  isArray: (_, schema) => {
    schema.type = 'array';
  },
  // An object's own shape is its schema's (a $ref): nothing to add.
  isObject: () => undefined,
  isNotEmpty: (_, schema) => {
    schema.minLength = Math.max(Number(schema.minLength ?? 0), 1);
  },
  minLength: ([min], schema) => {
    schema.minLength = min;
  },
  maxLength: ([max], schema) => {
    schema.maxLength = max;
  },
  matches: ([pattern], schema) => {
    if (!(pattern instanceof RegExp) || pattern.flags !== '')
      throw new Error(`a Matches rule must be a RegExp without flags: ${String(pattern)}`);
    schema.pattern = pattern.source;
  },
  notContains: ([text], schema) => {
    schema.not = { pattern: String(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&') };
  },
  min: ([min], schema) => {
    schema.minimum = min;
  },
  max: ([max], schema) => {
    schema.maximum = max;
  },
  isIn: ([values], schema) => {
    schema.enum = values;
  },
  arrayMinSize: ([min], schema) => {
    schema.minItems = min;
  },
  arrayMaxSize: ([max], schema) => {
    schema.maxItems = max;
  },
  isUsername: (_, schema) => {
    schema.pattern = USERNAME_PATTERN;
  },
  // Opaque `next` values of earlier answers: strings, and nothing a client builds.
  isUserCursor: (_, schema) => {
    schema.type = 'string';
  },
  isAuditCursor: (_, schema) => {
    schema.type = 'string';
  },
};

/** Kinds of metadata that are not rules of a value. */
const NOT_RULES = new Set<string>([
  ValidationTypes.CONDITIONAL_VALIDATION,
  ValidationTypes.NESTED_VALIDATION,
  ValidationTypes.WHITELIST,
  ValidationTypes.IS_DEFINED,
  ValidationTypes.PROMISE_VALIDATION,
]);

const ruleName = (metadata: ValidationMetadata) =>
  metadata.type === ValidationTypes.CUSTOM_VALIDATION ? (metadata.name ?? '') : metadata.type;

/** The JSON Schema keywords the rules of one property state, and whether it is required. */
function propertyKeywords(
  where: string,
  rules: ValidationMetadata[],
): { keywords: Keywords; required: boolean } | undefined {
  const own: Keywords = {};
  const items: Keywords = {};
  let required = true;
  let emptyAllowed = false;
  let documented = false;
  for (const metadata of rules) {
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      // @IsOptional, or @ValidateIf: the rules apply only to a value given.
      required = false;
      if (metadata.context === EMPTY_MEANS_CLEAR) emptyAllowed = true;
      continue;
    }
    if (metadata.type === ValidationTypes.WHITELIST) continue;
    if (NOT_RULES.has(metadata.type)) {
      documented = true;
      continue;
    }
    const name = ruleName(metadata);
    const rule = RULES[name];
    if (!rule)
      throw new Error(`${where}: the rule ${name} has no OpenAPI mapping (openapi-rules.ts)`);
    rule(metadata.constraints ?? [], metadata.each ? items : own);
    documented = true;
  }
  if (!documented) return undefined;
  if (Object.keys(items).length > 0) own.items = items;
  // NUL characters are refused in every string (unsafe-input.ts); a pattern of their own says so.
  for (const schema of [own, items]) {
    if (schema.type === 'string' && schema.pattern === undefined && schema.enum === undefined)
      schema.pattern = NUL_FREE_PATTERN;
  }
  if (emptyAllowed) {
    // An empty string means "clear": the other rules hold for any other value.
    const { type, ...rest } = own;
    return {
      keywords: {
        type,
        anyOf: [
          { type, maxLength: 0 },
          { type, ...rest },
        ],
      },
      required,
    };
  }
  return { keywords: own, required };
}

/** Every class the validation pipe checks: those with class-validator metadata of their own. */
function validatedClasses(): Constructor[] {
  const storage = getMetadataStorage() as unknown as { validationMetadatas?: unknown };
  if (!(storage.validationMetadatas instanceof Map))
    throw new Error("class-validator's metadata storage has changed shape (openapi-rules.ts)");
  return [...(storage.validationMetadatas as Map<Constructor, unknown>).keys()];
}

const documentedClasses = new WeakSet<Constructor>();

/**
 * Writes the rules class-validator enforces on each request DTO into that DTO's `@ApiProperty`
 * metadata, which @nestjs/swagger then turns into the document's schemas and query parameters:
 * lengths, patterns, ranges, enums, array sizes, integer types and which fields are required. The
 * decorators are the one source; `@ApiProperty` keeps descriptions, examples and formats.
 */
export function documentValidationRules(): void {
  const storage = getMetadataStorage();
  for (const target of validatedClasses()) {
    if (documentedClasses.has(target)) continue;
    const metadatas = storage.getTargetValidationMetadatas(target, '', true, false);
    const byProperty = storage.groupByPropertyName(metadatas);
    for (const [property, rules] of Object.entries(byProperty)) {
      const options = Reflect.getMetadata(API_MODEL_PROPERTIES, target.prototype, property) as
        Keywords | undefined;
      if (!options) continue; // @ApiHideProperty: not in the document
      const derived = propertyKeywords(`${target.name}.${property}`, rules);
      if (!derived) continue;
      const { keywords, required } = derived;
      const merged: Keywords = { ...options, required };
      if (keywords.type === 'integer' || keywords.type === 'boolean') merged.type = keywords.type;
      for (const key of ['enum', 'minimum', 'maximum', 'minItems', 'maxItems', 'anyOf', 'not'])
        if (keywords[key] !== undefined) merged[key] = keywords[key];
      if (keywords.type === 'string' && !keywords.anyOf) {
        for (const key of ['minLength', 'maxLength', 'pattern'])
          if (keywords[key] !== undefined) merged[key] = keywords[key];
      }
      if (keywords.items) merged.items = keywords.items;
      Reflect.defineMetadata(API_MODEL_PROPERTIES, merged, target.prototype, property);
    }
    documentedClasses.add(target);
  }
}

type Schema = Record<string, unknown> & {
  $ref?: string;
  allOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: unknown;
};

/**
 * `additionalProperties: false` on every object schema of a request body, and the objects nested
 * in them: the validation pipe (whitelist, forbidNonWhitelisted) refuses fields it does not know.
 * A schema that already says what extra fields it takes (generate's payload: custom claims, stated
 * on its own schema by ApiAdditionalProperties) keeps it.
 */
export function refuseUnknownFields(document: OpenAPIObject): OpenAPIObject {
  const schemas = (document.components?.schemas ?? {}) as Record<string, Schema>;
  const seen = new Set<Schema>();
  const visit = (schema: Schema | undefined): void => {
    if (!schema || seen.has(schema)) return;
    seen.add(schema);
    if (schema.$ref) return visit(schemas[schema.$ref.split('/').pop()!]);
    schema.allOf?.forEach((part) => visit(part));
    visit(schema.items);
    if (!schema.properties) return;
    if (schema.additionalProperties === undefined) schema.additionalProperties = false;
    Object.values(schema.properties).forEach((property) => visit(property));
  };
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as { requestBody?: { content?: object } }[]) {
      const content = operation?.requestBody?.content as
        Record<string, { schema?: Schema }> | undefined;
      for (const media of Object.values(content ?? {})) visit(media.schema);
    }
  }
  return document;
}

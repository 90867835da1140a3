import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiExtension,
  ApiExtraModels,
  getSchemaPath,
  type OpenAPIObject,
  type ParameterObject,
  type SchemaObject,
  type SecuritySchemeObject,
} from '@nestjs/swagger';

// @nestjs/swagger merges a method's security into its controller's and drops an empty list, and
// gives every consumed media type the same schema: these marks carry the exceptions to the document.
const SECURITY = 'x-datafor-security';
const FORM_BODY = 'x-datafor-form-body';
const FORM = 'application/x-www-form-urlencoded';

/** Anyone may call it: `security: []`. */
export const ApiPublic = () => ApiExtension(SECURITY, []);

/** Credentials are optional: one of `schemes`, or none (`{}`). */
export const ApiOptionalAuth = (...schemes: string[]) =>
  ApiExtension(SECURITY, [...schemes.map((scheme) => ({ [scheme]: [] })), {}]);

/** The form-urlencoded body has a shape of its own, `dto`, rather than the JSON body's. */
export const ApiFormBody = (dto: Type<unknown>) =>
  applyDecorators(ApiExtraModels(dto), ApiExtension(FORM_BODY, getSchemaPath(dto)));

/**
 * The DTO's schema takes fields beyond its properties, each as `schema` says (generate's custom
 * claims). Written on the DTO's own schema, beside its properties, rather than beside an `allOf`
 * that refers to it: generators (@hey-api/openapi-ts) drop an `additionalProperties` there.
 */
export const ApiAdditionalProperties =
  (schema: SchemaObject): ClassDecorator =>
  (target) => {
    OPEN_SCHEMAS.set(target, schema);
  };
const OPEN_SCHEMAS = new Map<object, SchemaObject>();

type Operation = Record<string, unknown> & {
  requestBody?: { content?: Record<string, Record<string, unknown>> };
  security?: Record<string, string[]>[];
  parameters?: ParameterObject[];
};

/**
 * A credential that an operation takes as a query parameter (an apiKey `in: query` scheme, such as
 * `?token=`) is also declared as an optional parameter of it: generated clients (openapi-fetch) type
 * only parameters, so the scheme alone left them no typed way to send it.
 */
function declareQueryCredentials(
  operation: Operation,
  schemes: Record<string, SecuritySchemeObject>,
): void {
  for (const requirement of operation.security ?? []) {
    for (const name of Object.keys(requirement)) {
      const scheme = schemes[name];
      if (scheme?.type !== 'apiKey' || scheme.in !== 'query' || !scheme.name) continue;
      const parameters = (operation.parameters ??= []);
      if (parameters.some((p) => p.in === 'query' && p.name === scheme.name)) continue;
      parameters.push({
        name: scheme.name,
        in: 'query',
        required: false,
        description:
          `The credential of the ${name} security scheme: ${scheme.description ?? ''}`.trim(),
        schema: { type: 'string' },
      });
    }
  }
}

/** Applies the marks above to the generated document and removes them. */
export function applyOpenApiMarks(document: OpenAPIObject): OpenAPIObject {
  const schemes = (document.components?.securitySchemes ?? {}) as Record<
    string,
    SecuritySchemeObject
  >;
  const schemas = document.components?.schemas ?? {};
  for (const [target, schema] of OPEN_SCHEMAS) {
    const name = getSchemaPath(target as Type<unknown>)
      .split('/')
      .pop()!;
    const own = schemas[name] as SchemaObject | undefined;
    if (own) own.additionalProperties = schema;
  }
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as Operation[]) {
      if (typeof operation !== 'object' || operation === null) continue;
      if (SECURITY in operation) {
        operation.security = operation[SECURITY] as Operation['security'];
        delete operation[SECURITY];
      }
      declareQueryCredentials(operation, schemes);
      const form = operation.requestBody?.content?.[FORM];
      if (FORM_BODY in operation && form) {
        operation.requestBody!.content![FORM] = { schema: { $ref: operation[FORM_BODY] } };
      }
      delete operation[FORM_BODY];
    }
  }
  return document;
}

import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtension, ApiExtraModels, getSchemaPath, type OpenAPIObject } from '@nestjs/swagger';

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

type Operation = Record<string, unknown> & {
  requestBody?: { content?: Record<string, Record<string, unknown>> };
};

/** Applies the marks above to the generated document and removes them. */
export function applyOpenApiMarks(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as Operation[]) {
      if (typeof operation !== 'object' || operation === null) continue;
      if (SECURITY in operation) {
        operation.security = operation[SECURITY];
        delete operation[SECURITY];
      }
      const form = operation.requestBody?.content?.[FORM];
      if (FORM_BODY in operation && form) {
        operation.requestBody!.content![FORM] = { schema: { $ref: operation[FORM_BODY] } };
      }
      delete operation[FORM_BODY];
    }
  }
  return document;
}

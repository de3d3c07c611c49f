import { applyDecorators } from '@nestjs/common';
import { ApiQuery, type SchemaObject } from '@nestjs/swagger';
import type { z } from 'zod';
import { fromZod } from './api-schemas.js';

/** One query parameter per field of the zod schema that validates the query, with its JSON schema. */
export function ApiQueryFrom(schema: z.ZodObject, descriptions: Record<string, string> = {}): MethodDecorator {
  const json = fromZod(schema);
  const required = new Set(json.required ?? []);
  const parameters = Object.entries(json.properties ?? {}).map(([name, property]) =>
    ApiQuery({ name, required: required.has(name), description: descriptions[name], schema: property as SchemaObject }),
  );
  return applyDecorators(...parameters);
}

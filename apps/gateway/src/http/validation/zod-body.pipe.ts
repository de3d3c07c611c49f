import { Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ApiError, describeIssues } from '@app/common';

/**
 * Validates a body or query against a zod schema. Every problem (unknown field, wrong
 * type, wrong length) is the contract's `400 invalid_request`, naming the field.
 */
@Injectable()
export class ZodPipe<Schema extends z.ZodType> implements PipeTransform<unknown, z.infer<Schema>> {
  constructor(private readonly schema: Schema) {}

  transform(value: unknown): z.infer<Schema> {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw new ApiError('invalid_request', describeIssues(parsed.error.issues));
    return parsed.data;
  }
}

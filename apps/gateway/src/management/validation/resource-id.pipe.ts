import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from '@app/common';
import type { ErrorCode } from '@app/contracts';

const MAX_ID_LENGTH = 64;

/**
 * A path id longer than any id key-management issues names nothing: it is answered as
 * the resource's 404 here, like any other unknown id, instead of a 400 from the bus schema.
 */
@Injectable()
export class ResourceIdPipe implements PipeTransform<string, string> {
  constructor(private readonly notFound: Extract<ErrorCode, `${string}not_found`>) {}

  transform(value: string): string {
    if (value.length === 0 || value.length > MAX_ID_LENGTH) throw new ApiError(this.notFound, 'no such resource');
    return value;
  }
}

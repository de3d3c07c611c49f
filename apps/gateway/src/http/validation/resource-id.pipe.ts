import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from '@app/common';
import { isUuid, type ErrorCode } from '@app/contracts';

/**
 * A path id that is not a uuid names nothing: it is answered as the resource's 404 here,
 * like any other unknown id, without a bus round trip. It also keeps whatever a client
 * typed there (a pasted API key, say) off the bus and out of key-management's logs.
 */
@Injectable()
export class ResourceIdPipe implements PipeTransform<string, string> {
  constructor(private readonly notFound: Extract<ErrorCode, `${string}not_found`>) {}

  transform(value: string): string {
    if (!isUuid(value)) throw new ApiError(this.notFound, 'no such resource');
    return value;
  }
}

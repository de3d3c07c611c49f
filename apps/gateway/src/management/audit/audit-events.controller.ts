import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Actor, AuditEventView, Page } from '@app/contracts';
import { KeyManagementClient } from '../../key-management/key-management.client.js';
import { CurrentActor } from '../caller/current-actor.decorator.js';
import { ManagementAuthGuard } from '../caller/management-auth.guard.js';
import { ZodPipe } from '../../http/validation/zod-body.pipe.js';
import { ApiErrors, MANAGEMENT_AUTH_ERRORS } from '../../openapi/api-errors.js';
import { ApiQueryFrom } from '../../openapi/api-query.js';
import { ref } from '../../openapi/api-schemas.js';
import { AUDIT_QUERY_DESCRIPTIONS, AuditEventsQuerySchema, type AuditEventsQuery } from '../../audit/audit-events.query.js';

/** Who changed what: owners and admins see the account's events, members those of their chatbots. */
@ApiTags('audit log')
@ApiBearerAuth('userKeyOrSsoToken')
@Controller('v1/audit-events')
@UseGuards(ManagementAuthGuard)
export class AuditEventsController {
  constructor(@Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient) {}

  @Get()
  @ApiOperation({
    summary: "List the audit log's events",
    description:
      "Every change made through the management and admin APIs, and every automatic one (a leaked key revoked), newest first. Owners and admins: the account's events; members: the events of the chatbots assigned to them and of their keys.",
  })
  @ApiQueryFrom(AuditEventsQuerySchema, AUDIT_QUERY_DESCRIPTIONS)
  @ApiResponse({ status: 200, description: 'A page of events.', schema: ref('AuditEventPage') })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'invalid_request')
  list(@CurrentActor() actor: Actor, @Query(new ZodPipe(AuditEventsQuerySchema)) query: AuditEventsQuery): Promise<Page<AuditEventView>> {
    return this.keyManagement.request('listAuditEvents', { actor, ...query });
  }
}

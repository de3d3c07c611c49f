import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuditEventView, Page } from '@app/contracts';
import { KeyManagementClient } from '../key-management/key-management.client.js';
import { AUDIT_QUERY_DESCRIPTIONS, AuditEventsQuerySchema, type AuditEventsQuery } from '../audit/audit-events.query.js';
import { ResourceIdPipe } from '../http/validation/resource-id.pipe.js';
import { ZodPipe } from '../http/validation/zod-body.pipe.js';
import { ADMIN_AUTH_ERRORS, ApiErrors } from '../openapi/api-errors.js';
import { ApiQueryFrom } from '../openapi/api-query.js';
import { ref } from '../openapi/api-schemas.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/** An account's whole audit log, for the platform that owns accounts. */
@ApiTags('admin')
@ApiBearerAuth('adminToken')
@Controller('admin/v1/accounts/:accountId/audit-events')
@UseGuards(AdminTokenGuard)
export class AdminAuditController {
  constructor(@Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient) {}

  @Get()
  @ApiOperation({ summary: "List an account's audit events", description: 'Every event of the account, newest first.' })
  @ApiParam({ name: 'accountId', description: 'An account.' })
  @ApiQueryFrom(AuditEventsQuerySchema, AUDIT_QUERY_DESCRIPTIONS)
  @ApiResponse({ status: 200, description: 'A page of events.', schema: ref('AuditEventPage') })
  @ApiErrors(...ADMIN_AUTH_ERRORS, 'invalid_request', 'account_not_found')
  list(
    @Param('accountId', new ResourceIdPipe('account_not_found')) accountId: string,
    @Query(new ZodPipe(AuditEventsQuerySchema)) query: AuditEventsQuery,
  ): Promise<Page<AuditEventView>> {
    return this.keyManagement.request('adminListAuditEvents', { accountId, ...query });
  }
}

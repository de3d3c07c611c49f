import { Controller, Delete, HttpCode, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ChangeOrigin } from '@app/contracts';
import { KeyManagementClient } from '../key-management/key-management.client.js';
import { ChangeOriginOf } from '../http/change-origin.decorator.js';
import { ResourceIdPipe } from '../http/validation/resource-id.pipe.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { ADMIN_AUTH_ERRORS, ApiErrors } from '../openapi/api-errors.js';

/** Deleting a chatbot revokes its keys (key-management does both in one transaction and tells every replica). */
@ApiTags('admin')
@ApiBearerAuth('adminToken')
@Controller('admin/v1/chatbots')
@UseGuards(AdminTokenGuard)
export class AdminChatbotsController {
  constructor(@Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient) {}

  @Delete(':chatbotId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a chatbot',
    description: 'Its keys are revoked with it: every gateway and verifier refuses them within a second.',
  })
  @ApiParam({ name: 'chatbotId', description: 'A chatbot.' })
  @ApiResponse({ status: 204, description: 'Deleted.' })
  @ApiErrors(...ADMIN_AUTH_ERRORS, 'chatbot_not_found')
  async deleteChatbot(
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('chatbotId', new ResourceIdPipe('chatbot_not_found')) chatbotId: string,
  ): Promise<void> {
    await this.keyManagement.request('adminDeleteChatbot', { chatbotId, origin });
  }
}

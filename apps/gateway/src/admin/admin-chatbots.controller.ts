import { Controller, Delete, HttpCode, Inject, Param, UseGuards } from '@nestjs/common';
import { NatsBus } from '@app/common';
import { ResourceIdPipe } from '../management/validation/resource-id.pipe.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/** Deleting a chatbot revokes its keys (key-management does both in one transaction and tells every replica). */
@Controller('admin/v1/chatbots')
@UseGuards(AdminTokenGuard)
export class AdminChatbotsController {
  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  @Delete(':chatbotId')
  @HttpCode(204)
  async deleteChatbot(@Param('chatbotId', new ResourceIdPipe('chatbot_not_found')) chatbotId: string): Promise<void> {
    await this.bus.request('adminDeleteChatbot', { chatbotId });
  }
}

import { Body, Controller, Inject, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { NatsBus } from '@app/common';
import type { AccountView, ChatbotView, UserView } from '@app/contracts';
import { ResourceIdPipe } from '../management/validation/resource-id.pipe.js';
import { ZodPipe } from '../management/validation/zod-body.pipe.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import {
  CreateAccountBodySchema,
  CreateChatbotBodySchema,
  CreateUserBodySchema,
  UpdateAccountBodySchema,
  type CreateAccountBody,
  type CreateChatbotBody,
  type CreateUserBody,
  type UpdateAccountBody,
} from './dto/admin-bodies.js';

const accountId = new ResourceIdPipe('account_not_found');

/** Provisioning accounts and what they hold. A plan change applies to its keys within a second. */
@Controller('admin/v1/accounts')
@UseGuards(AdminTokenGuard)
export class AdminAccountsController {
  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  @Post()
  createAccount(@Body(new ZodPipe(CreateAccountBodySchema)) body: CreateAccountBody): Promise<AccountView> {
    return this.bus.request('adminCreateAccount', body);
  }

  @Patch(':accountId')
  updateAccount(
    @Param('accountId', accountId) account: string,
    @Body(new ZodPipe(UpdateAccountBodySchema)) body: UpdateAccountBody,
  ): Promise<AccountView> {
    return this.bus.request('adminUpdateAccount', { accountId: account, ...body });
  }

  @Post(':accountId/chatbots')
  createChatbot(
    @Param('accountId', accountId) account: string,
    @Body(new ZodPipe(CreateChatbotBodySchema)) body: CreateChatbotBody,
  ): Promise<ChatbotView> {
    return this.bus.request('adminCreateChatbot', { accountId: account, ...body });
  }

  @Post(':accountId/users')
  createUser(
    @Param('accountId', accountId) account: string,
    @Body(new ZodPipe(CreateUserBodySchema)) body: CreateUserBody,
  ): Promise<UserView> {
    return this.bus.request('adminCreateUser', { accountId: account, ...body });
  }
}

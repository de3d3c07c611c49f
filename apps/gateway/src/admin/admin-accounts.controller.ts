import { Body, Controller, Inject, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AccountView, ChangeOrigin, ChatbotView, UserView } from '@app/contracts';
import { KeyManagementClient } from '../key-management/key-management.client.js';
import { ChangeOriginOf } from '../http/change-origin.decorator.js';
import { ResourceIdPipe } from '../http/validation/resource-id.pipe.js';
import { ZodPipe } from '../http/validation/zod-body.pipe.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { ADMIN_AUTH_ERRORS, ApiErrors } from '../openapi/api-errors.js';
import { fromZod, ref } from '../openapi/api-schemas.js';
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
@ApiTags('admin')
@ApiBearerAuth('adminToken')
@Controller('admin/v1/accounts')
@UseGuards(AdminTokenGuard)
export class AdminAccountsController {
  constructor(@Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient) {}

  @Post()
  @ApiOperation({ summary: 'Create an account' })
  @ApiBody({ schema: fromZod(CreateAccountBodySchema) })
  @ApiResponse({ status: 201, description: 'The account.', schema: ref('Account') })
  @ApiErrors(...ADMIN_AUTH_ERRORS, 'invalid_request', 'payload_too_large')
  createAccount(
    @ChangeOriginOf() origin: ChangeOrigin,
    @Body(new ZodPipe(CreateAccountBodySchema)) body: CreateAccountBody,
  ): Promise<AccountView> {
    return this.keyManagement.request('adminCreateAccount', { ...body, origin });
  }

  @Patch(':accountId')
  @ApiOperation({
    summary: 'Rename an account or change its plan',
    description:
      "Going to `free` suspends the account's chatbot keys (`403 plan_not_eligible`) without deleting them; upgrading restores them, within a second.",
  })
  @ApiParam({ name: 'accountId', description: 'An account.' })
  @ApiBody({ schema: fromZod(UpdateAccountBodySchema) })
  @ApiResponse({ status: 200, description: 'The account.', schema: ref('Account') })
  @ApiErrors(...ADMIN_AUTH_ERRORS, 'invalid_request', 'payload_too_large', 'account_not_found')
  updateAccount(
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('accountId', accountId) account: string,
    @Body(new ZodPipe(UpdateAccountBodySchema)) body: UpdateAccountBody,
  ): Promise<AccountView> {
    return this.keyManagement.request('adminUpdateAccount', { ...body, accountId: account, origin });
  }

  @Post(':accountId/chatbots')
  @ApiOperation({ summary: 'Create a chatbot in an account' })
  @ApiParam({ name: 'accountId', description: 'An account.' })
  @ApiBody({ schema: fromZod(CreateChatbotBodySchema) })
  @ApiResponse({ status: 201, description: 'The chatbot.', schema: ref('Chatbot') })
  @ApiErrors(...ADMIN_AUTH_ERRORS, 'invalid_request', 'payload_too_large', 'account_not_found')
  createChatbot(
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('accountId', accountId) account: string,
    @Body(new ZodPipe(CreateChatbotBodySchema)) body: CreateChatbotBody,
  ): Promise<ChatbotView> {
    return this.keyManagement.request('adminCreateChatbot', { ...body, accountId: account, origin });
  }

  @Post(':accountId/users')
  @ApiOperation({
    summary: 'Create a user in an account',
    description:
      '`ssoSubject` is matched to the `sub` of SSO tokens; `chatbotIds` assigns chatbots of the same account (what a member reaches).',
  })
  @ApiParam({ name: 'accountId', description: 'An account.' })
  @ApiBody({ schema: fromZod(CreateUserBodySchema) })
  @ApiResponse({ status: 201, description: 'The user.', schema: ref('User') })
  @ApiErrors(...ADMIN_AUTH_ERRORS, 'invalid_request', 'payload_too_large', 'account_not_found', 'chatbot_not_found', 'conflict')
  createUser(
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('accountId', accountId) account: string,
    @Body(new ZodPipe(CreateUserBodySchema)) body: CreateUserBody,
  ): Promise<UserView> {
    return this.keyManagement.request('adminCreateUser', { ...body, accountId: account, origin });
  }
}

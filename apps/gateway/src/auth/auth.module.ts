import { Module } from '@nestjs/common';
import { KeyEventSubscriber } from '@app/common';
import { KeyAuthenticator } from './key-authenticator.js';
import { VerifyClient } from './verify-client.js';

/** Verifies presented API keys (data plane and management API) through `auth.verify`, with a local cache. */
@Module({
  providers: [VerifyClient, KeyEventSubscriber, KeyAuthenticator],
  exports: [KeyAuthenticator],
})
export class AuthModule {}

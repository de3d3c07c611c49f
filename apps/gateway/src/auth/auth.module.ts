import { Module } from '@nestjs/common';
import { KeyAuthenticator } from './key-authenticator.js';

/** Verifies presented API keys (data plane and management API) through `auth.verify`, with a local cache. */
@Module({
  providers: [KeyAuthenticator],
  exports: [KeyAuthenticator],
})
export class AuthModule {}

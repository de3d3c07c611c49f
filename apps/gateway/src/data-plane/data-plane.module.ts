import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { DataPlane } from './data-plane.js';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';

/** `/api/v1/*`: key-checked forwarding to the chatbot upstream, mounted on Fastify by `DataPlane.mount`. */
@Module({
  imports: [AuthModule, UsageModule.forRoot(), RateLimitModule],
  providers: [DataPlane],
  exports: [DataPlane],
})
export class DataPlaneModule {}

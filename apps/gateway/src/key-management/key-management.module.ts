import { Module } from '@nestjs/common';
import { KeyManagementClient } from './key-management.client.js';

/** Gives the admin API, the management API and leak reports their one way to key-management. */
@Module({ providers: [KeyManagementClient], exports: [KeyManagementClient] })
export class KeyManagementModule {}

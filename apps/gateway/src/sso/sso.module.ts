import { Module } from '@nestjs/common';
import { SsoTokenVerifier } from './sso-token-verifier.js';

@Module({ providers: [SsoTokenVerifier], exports: [SsoTokenVerifier] })
export class SsoModule {}

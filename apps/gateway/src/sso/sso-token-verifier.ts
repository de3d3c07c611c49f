import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';
import { ApiError, CONFIG } from '@app/common';
import type { Actor } from '@app/contracts';
import type { GatewayConfig, SsoConfig } from '../config.js';

const ASYMMETRIC = ['RS256', 'ES256'];

/**
 * Verifies SSO tokens (JWTs) with jose: RS256/ES256 against a JWKS (URL, fetched and cached,
 * refetched when a token names an unknown `kid` so key rotation is honoured; or a file), and
 * HS256 with a shared secret. Each algorithm is only ever checked with its own kind of key, so
 * `alg: none` and algorithm confusion (an RS256 public key used as an HS256 secret) fail.
 */
@Injectable()
export class SsoTokenVerifier {
  private readonly settings: SsoConfig;
  private readonly getKey: JWTVerifyGetKey | undefined;
  private readonly algorithms: string[];

  constructor(@Inject(CONFIG) config: GatewayConfig) {
    this.settings = config.sso;
    const jwks = jwksOf(config.sso);
    const secret = config.sso.hs256Secret ? new TextEncoder().encode(config.sso.hs256Secret) : undefined;
    this.algorithms = [...(jwks ? ASYMMETRIC : []), ...(secret ? ['HS256'] : [])];
    if (!this.algorithms.length) return;
    this.getKey = async (header: JWTHeaderParameters, token) => {
      if (header.alg === 'HS256' && secret) return secret;
      if (ASYMMETRIC.includes(header.alg) && jwks) return jwks(header, token);
      throw new errors.JOSEAlgNotAllowed('algorithm not allowed');
    };
  }

  get enabled(): boolean {
    return this.getKey !== undefined;
  }

  /** Resolves the actor the token's `sub` names; every failure is the same 401 invalid_token. */
  async verify(token: string): Promise<Actor> {
    if (!this.getKey) throw new ApiError('invalid_token', 'SSO sign-in is not configured');
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        algorithms: this.algorithms,
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: this.settings.clockSkewSeconds,
        requiredClaims: ['sub', 'exp'],
      });
      if (typeof payload.sub !== 'string' || !payload.sub) throw new Error('no subject');
      return { ssoSubject: payload.sub };
    } catch (error) {
      if (error instanceof errors.JWKSTimeout) throw new ApiError('service_unavailable', 'the identity provider did not answer');
      throw new ApiError('invalid_token', 'the SSO token is expired, wrongly signed or not for this service');
    }
  }
}

function jwksOf(sso: SsoConfig): JWTVerifyGetKey | undefined {
  if (sso.jwksUrl) return createRemoteJWKSet(new URL(sso.jwksUrl), { cooldownDuration: sso.jwksCooldownMs, cacheMaxAge: 10 * 60_000 });
  if (sso.jwksFile) return createLocalJWKSet(JSON.parse(readFileSync(sso.jwksFile, 'utf8')) as JSONWebKeySet);
  return undefined;
}

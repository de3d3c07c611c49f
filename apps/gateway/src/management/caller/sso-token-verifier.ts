import { Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import type { Actor } from '@app/contracts';

/**
 * Turns an SSO token (a JWT, contract section 8) into the actor it speaks for.
 *
 * This is the seam for SSO: verification against a JWKS or an HS256 secret arrives with
 * its own configuration (SSO_JWKS_URL / SSO_JWKS_FILE / SSO_ISSUER / SSO_AUDIENCE /
 * SSO_HS256_SECRET). Until an identity provider is configured there is nothing a token
 * could be checked against, so refusing every token with `invalid_token` is the correct
 * behaviour, not a placeholder: accepting an unverifiable token would fail open.
 */
@Injectable()
export class SsoTokenVerifier {
  async verify(_token: string): Promise<Actor> {
    throw new ApiError('invalid_token', 'SSO tokens are not accepted: no identity provider is configured');
  }
}

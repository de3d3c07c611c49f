/** Every error code of the public contract, with the HTTP status it travels with. */
export const ERROR_STATUS = {
  invalid_request: 400,
  missing_api_key: 401,
  invalid_api_key: 401,
  invalid_token: 401,
  invalid_signature: 401,
  insufficient_scope: 403,
  plan_not_eligible: 403,
  forbidden: 403,
  ip_not_allowed: 403,
  not_found: 404,
  chatbot_not_found: 404,
  key_not_found: 404,
  user_not_found: 404,
  account_not_found: 404,
  conflict: 409,
  key_limit_reached: 409,
  key_expired: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  upstream_unavailable: 502,
  auth_unavailable: 503,
  service_unavailable: 503,
  upstream_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error as it crosses the bus or leaves the gateway. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

import { verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/** GitHub reports in batches; anything larger is not a report we expect. */
export const MAX_REPORT_BYTES = 1024 * 1024;
export const MAX_REPORT_TOKENS = 1000;
const MAX_SIGNATURE_LENGTH = 512;

const clipped = (max: number) => z.string().transform((value) => value.slice(0, max));

/** One reported token. Unknown members are ignored: the partner format may grow. */
const ReportedTokenSchema = z.object({
  token: z.string().min(1).max(4096),
  type: clipped(200),
  url: clipped(2048),
  source: clipped(200),
});
export const LeakReportSchema = z.array(ReportedTokenSchema).min(1).max(MAX_REPORT_TOKENS);
export type LeakReport = z.infer<typeof LeakReportSchema>;

/** ECDSA P-256 with SHA-256 over the raw body bytes; the signature is base64 of its DER form. */
export function signatureVerifies(body: Buffer, signatureHeader: string, key: KeyObject): boolean {
  if (signatureHeader.length > MAX_SIGNATURE_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(signatureHeader)) return false;
  try {
    return verify('sha256', body, key, Buffer.from(signatureHeader, 'base64'));
  } catch {
    // A signature that is not valid DER is a bad signature, not a server error.
    return false;
  }
}

/**
 * Parses a verified body. The message never quotes the body: it holds plaintext tokens.
 */
export function parseLeakReport(body: Buffer): LeakReport | string {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the report is not JSON';
  }
  const parsed = LeakReportSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.length ? issue.path.join('.') : 'the report';
  return `${where}: a report is a JSON array of 1–${MAX_REPORT_TOKENS} {"token","type","url","source"} objects (${issue.code})`;
}

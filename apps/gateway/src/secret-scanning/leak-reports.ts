import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, CONFIG, LOGGER, type Logger } from '@app/common';
import { classifyApiKey, hashApiKey } from '@app/contracts';
import type { GatewayConfig } from '../config.js';
import { KeyManagementClient } from '../key-management/key-management.client.js';
import { changeOriginOf } from '../http/change-origin.decorator.js';
import { sendError, toApiError } from '../http/error-response.js';
import { MAX_REPORT_BYTES, parseLeakReport, signatureVerifies, type LeakReport } from './leak-report.js';
import { ScanningPublicKeys } from './scanning-public-keys.js';

export const LEAK_REPORTS_PATH = '/v1/secret-scanning/reports';

interface LabelledToken {
  token_hash: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
}

/**
 * `POST /v1/secret-scanning/reports`: GitHub's secret scanning partner endpoint. The body's
 * signature is checked over its raw bytes before anything else is read from it; tokens are
 * hashed here and only hashes go to key-management, which revokes the live ones. Plaintext
 * tokens are never logged, stored or sent on.
 */
@Injectable()
export class LeakReports {
  private readonly keys: ScanningPublicKeys | null;

  constructor(
    @Inject(CONFIG) config: GatewayConfig,
    @Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const { keysFile, keysUrl, refetchCooldownMs } = config.secretScanning;
    const source = keysFile ? { file: keysFile } : keysUrl ? { url: keysUrl } : null;
    this.keys =
      source &&
      new ScanningPublicKeys(source, refetchCooldownMs, (error) =>
        this.logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'secret scanning public keys could not be loaded',
        ),
      );
  }

  /** Not mounted without a key source: the route is then an unknown one (404). */
  async mount(fastify: FastifyInstance): Promise<void> {
    if (!this.keys) return;
    await fastify.register(async (scope) => {
      // The signature covers the exact bytes: keep them, whatever the declared type.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_REPORT_BYTES }, (_request, body, done) => done(null, body));
      scope.setErrorHandler((error, request, reply) => {
        const apiError = toApiError(error);
        return sendError(request, reply, apiError.code, apiError.message);
      });
      scope.post(LEAK_REPORTS_PATH, (request, reply) => this.handle(request, reply));
    });
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const report = await this.verifiedReport(request);
    const answer = await this.revokeLiveKeys(request, report);
    return reply.code(200).type('application/json; charset=utf-8').send(answer);
  }

  private async verifiedReport(request: FastifyRequest): Promise<LeakReport> {
    const identifier = request.headers['github-public-key-identifier'];
    const signature = request.headers['github-public-key-signature'];
    if (typeof identifier !== 'string' || typeof signature !== 'string' || !identifier || !signature) {
      throw new ApiError('invalid_signature', 'send Github-Public-Key-Identifier and Github-Public-Key-Signature');
    }
    const key = identifier.length <= 512 ? await this.keys!.find(identifier) : null;
    if (!key && !this.keys!.available) throw new ApiError('service_unavailable', 'the public keys for leak reports cannot be loaded');
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (!key || !signatureVerifies(body, signature, key)) {
      throw new ApiError('invalid_signature', 'the report signature does not verify');
    }
    const report = parseLeakReport(body);
    if (typeof report === 'string') throw new ApiError('invalid_request', report);
    return report;
  }

  /**
   * A token that cannot be one of our keys (a known prefix with a wrong checksum, or not a
   * key's shape at all) is a false positive without asking key-management.
   */
  private async revokeLiveKeys(request: FastifyRequest, report: LeakReport): Promise<LabelledToken[]> {
    const hashed = report.map((entry) => ({
      ...entry,
      keyHash: hashApiKey(entry.token),
      candidate: classifyApiKey(entry.token) !== 'malformed',
    }));
    const candidates = hashed.filter((entry) => entry.candidate);
    const revoked = candidates.length
      ? (
          await this.keyManagement.request('reportLeakedKeys', {
            origin: changeOriginOf(request),
            tokens: candidates.map(({ keyHash, url, source }) => ({ keyHash, url, source })),
          })
        ).revoked
      : [];
    const live = new Set(candidates.filter((_entry, index) => revoked[index]).map((entry) => entry.keyHash));
    if (live.size) this.logger.warn({ revoked: live.size, reported: report.length }, 'leaked keys revoked on a secret scanning report');
    return hashed.map((entry) => ({
      token_hash: entry.keyHash,
      token_type: entry.type,
      label: live.has(entry.keyHash) ? 'true_positive' : 'false_positive',
    }));
  }
}

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from '@app/common';
import type { DemoUpstreamConfig } from './config.js';
import { replyTo, trustedHeadersOf } from './chat-replies.js';

/**
 * The tiny chatbot API the quick start proxies to. Plain Fastify: it stands in for a
 * customer's own service, so it carries none of the system's machinery.
 */
export function buildDemoUpstream(logger: Logger, chunkDelayMs = 50): FastifyInstance {
  // Typed as Fastify's own logger so that `app` is a plain FastifyInstance.
  const loggerInstance: FastifyBaseLogger = logger;
  const app: FastifyInstance = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(''));

  app.post<{ Body: { chatbotId?: string; message?: string; stream?: boolean } }>('/api/v1/chat', async (request, reply) => {
    const body = request.body ?? {};
    const words = replyTo(String(body.message ?? ''));
    if (body.stream || request.headers.accept === 'text/event-stream') return streamWords(reply, words, chunkDelayMs);
    return { chatbotId: body.chatbotId ?? null, reply: words.join(' '), received: trustedHeadersOf(request.headers) };
  });

  app.get<{ Params: { chatbotId: string } }>('/api/v1/chatbots/:chatbotId/stream', async (_request, reply) =>
    streamWords(reply, replyTo('a streamed question'), chunkDelayMs),
  );

  app.all('/api/v1/*', async (request) => ({
    method: request.method,
    path: request.url.split('?')[0],
    query: request.query,
    body: request.body ?? null,
    received: trustedHeadersOf(request.headers),
  }));

  return app;
}

async function streamWords(reply: FastifyReply, words: string[], delayMs: number): Promise<FastifyReply> {
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const word of words) {
    reply.raw.write(`data: ${JSON.stringify({ token: word })}\n\n`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  reply.raw.end('data: [DONE]\n\n');
  return reply;
}

export async function startDemoUpstream(config: DemoUpstreamConfig, logger: Logger): Promise<FastifyInstance> {
  const app = buildDemoUpstream(logger);
  await app.listen({ port: config.port, host: '0.0.0.0' });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void app.close());
  return app;
}

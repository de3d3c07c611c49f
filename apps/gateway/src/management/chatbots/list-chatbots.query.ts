import { z } from 'zod';

/** `GET /v1/chatbots?limit=&cursor=`: other query parameters are ignored, as usual for queries. */
export const ListChatbotsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(200).optional(),
});
export type ListChatbotsQuery = z.infer<typeof ListChatbotsQuerySchema>;

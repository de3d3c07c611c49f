import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { messageOf } from '../api/errors';
import { chatbotScope, type Chatbot } from '../api/types';
import { onLinkClick } from '../router';

/** Every chatbot the caller reaches, page after page (members: the assigned ones only). */
export async function fetchChatbots(api: ApiClient): Promise<Chatbot[]> {
  const all: Chatbot[] = [];
  let cursor: string | null = null;
  do {
    const query: string = new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) }).toString();
    const page: { data: Chatbot[]; nextCursor: string | null } = await api.get(`/v1/chatbots?${query}`);
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

export function ChatbotsPage({ api, manager }: { api: ApiClient; manager: boolean }) {
  const [chatbots, setChatbots] = useState<Chatbot[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  useEffect(() => {
    fetchChatbots(api).then(setChatbots, (caught) => setError(messageOf(caught)));
  }, [api]);
  const needle = search.trim().toLowerCase();
  const shown = chatbots?.filter((chatbot) => !needle || chatbot.name.toLowerCase().includes(needle) || chatbot.id.includes(needle)) ?? [];
  return (
    <main id="main">
      <h1>Chatbots</h1>
      <p class="hint">{manager ? 'Every chatbot of your account.' : 'The chatbots assigned to you.'} Choose one to manage its API keys.</p>
      <div class="search">
        <label for="chatbot-search">Search chatbots</label>
        <input id="chatbot-search" type="search" value={search} onInput={(event) => setSearch(event.currentTarget.value)} />
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {chatbots === null && !error && <p class="muted">Loading chatbots…</p>}
      {chatbots && (
        <>
          <p class="muted small" role="status">
            {needle
              ? `${shown.length} of ${chatbots.length} chatbots match`
              : `${chatbots.length} ${chatbots.length === 1 ? 'chatbot' : 'chatbots'}`}
          </p>
          <ul class="cards" aria-label="Chatbots">
            {shown.map((chatbot) => (
              <li key={chatbot.id}>
                <a href={chatbotScope(chatbot.id).pagePath} onClick={onLinkClick}>
                  <span class="card-title">{chatbot.name}</span>
                  <span class="muted small">{chatbot.id}</span>
                </a>
              </li>
            ))}
          </ul>
          {chatbots.length === 0 && (
            <p>
              {manager ? 'Your account has no chatbots yet.' : 'No chatbot is assigned to you yet. Ask an owner or admin of your account.'}
            </p>
          )}
        </>
      )}
    </main>
  );
}

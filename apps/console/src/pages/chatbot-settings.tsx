import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { chatbotScope, type Chatbot } from '../api/types';
import { KeysPanel } from '../keys/keys-panel';
import { onLinkClick } from '../router';
import { fetchChatbots } from './chatbots';

export function useChatbot(api: ApiClient, chatbotId: string): Chatbot | null {
  const [chatbot, setChatbot] = useState<Chatbot | null>(null);
  useEffect(() => {
    fetchChatbots(api).then(
      (all) => setChatbot(all.find((candidate) => candidate.id === chatbotId) ?? null),
      () => setChatbot(null),
    );
  }, [api, chatbotId]);
  return chatbot;
}

/** A chatbot's Settings: a sidebar of sections; API Keys is the one this console has. */
export function ChatbotSettingsPage({ api, chatbotId }: { api: ApiClient; chatbotId: string }) {
  const chatbot = useChatbot(api, chatbotId);
  const scope = chatbotScope(chatbotId);
  return (
    <div class="settings">
      <nav class="sidebar" aria-label="Chatbot settings">
        <a href="/console/" onClick={onLinkClick} class="back">
          ← All chatbots
        </a>
        <p class="sidebar-title">{chatbot?.name ?? 'Chatbot'} settings</p>
        <ul>
          <li>
            <a href={scope.pagePath} onClick={onLinkClick} aria-current="page">
              API Keys <span class="badge new">New</span>
            </a>
          </li>
        </ul>
      </nav>
      <main id="main">
        <KeysPanel api={api} scope={scope} intro={`Keys that reach ${chatbot ? `“${chatbot.name}”` : 'this chatbot'} and nothing else.`} />
      </main>
    </div>
  );
}

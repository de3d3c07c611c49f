import { useEffect, useState } from 'preact/hooks';

/** A tiny history router: the console has a handful of pages, not worth a library. */
const listeners = new Set<() => void>();

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const listener of listeners) listener();
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

export type Route =
  | { page: 'chatbots' }
  | { page: 'chatbot-keys'; chatbotId: string }
  | { page: 'key-usage'; chatbotId: string | null; keyId: string }
  | { page: 'account-keys' }
  | { page: 'callback' }
  | { page: 'not-found' };

export function routeOf(path: string): Route {
  const parts = path
    .replace(/^\/console\/?/, '')
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  const [first, second, third, fourth, fifth, sixth] = parts;
  if (parts.length === 0 || (first === 'chatbots' && parts.length === 1)) return { page: 'chatbots' };
  if (first === 'callback' && parts.length === 1) return { page: 'callback' };
  if (first === 'chatbots' && second && (parts.length === 2 || (third === 'settings' && (parts.length === 3 || fourth === 'api-keys')))) {
    if (parts.length <= 4) return { page: 'chatbot-keys', chatbotId: second };
    if (parts.length === 6 && fifth && sixth === 'usage') return { page: 'key-usage', chatbotId: second, keyId: fifth };
  }
  if (first === 'account' && second === 'api-keys') {
    if (parts.length === 2) return { page: 'account-keys' };
    if (parts.length === 4 && third && fourth === 'usage') return { page: 'key-usage', chatbotId: null, keyId: third };
  }
  return { page: 'not-found' };
}

/** An in-app link: a real <a href> (so it opens in a new tab too), handled without a reload. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.pathname);
}

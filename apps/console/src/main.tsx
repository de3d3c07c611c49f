import { render } from 'preact';
import { App, type ConsoleSettings } from './app';
import './styles.css';

/** The gateway says whether SSO is configured; without an answer, key sign-in still works. */
async function settings(): Promise<ConsoleSettings> {
  try {
    const response = await fetch('/console/config.json', { cache: 'no-store' });
    if (response.ok) return (await response.json()) as ConsoleSettings;
  } catch {
    // offline or an old gateway: key sign-in only
  }
  return { sso: null };
}

render(<App settings={await settings()} />, document.getElementById('app')!);

import { useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { messageOf } from '../api/errors';
import type { CreatedKey, KeyScope } from '../api/types';
import { Dialog, ErrorText } from '../ui/dialog';

/** Step 1 of creating a key: an optional name. Lifecycle options (expiry, limits) belong here too. */
export function CreateKeyDialog(props: {
  api: ApiClient;
  scope: KeyScope;
  onCreated: (key: CreatedKey) => void;
  onClose: () => void;
  onRefused: (code: string) => void;
}) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const trimmed = name.trim();
      props.onCreated(await props.api.post<CreatedKey>(props.scope.apiPath, trimmed ? { name: trimmed } : {}));
    } catch (caught) {
      setError(messageOf(caught));
      props.onRefused((caught as { code?: string }).code ?? '');
      setBusy(false);
    }
  };
  return (
    <Dialog title="Create new key" onClose={props.onClose}>
      <form onSubmit={(event) => void submit(event)}>
        <label for="new-key-name">Name (optional)</label>
        <input
          id="new-key-name"
          value={name}
          maxLength={64}
          autoComplete="off"
          placeholder="Untitled key"
          onInput={(event) => setName(event.currentTarget.value)}
        />
        <p class="hint">A name helps you tell keys apart, e.g. “Zapier” or “Website widget”.</p>
        <ErrorText message={error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create key'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

import { useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { messageOf } from '../api/errors';
import type { ApiKey } from '../api/types';
import { Dialog, ErrorText } from '../ui/dialog';

export function RevokeKeyDialog(props: { api: ApiClient; keyPath: string; apiKey: ApiKey; onRevoked: () => void; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const revoke = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.api.delete(props.keyPath);
      props.onRevoked();
    } catch (caught) {
      setError(messageOf(caught));
      setBusy(false);
    }
  };
  const { name, prefix } = props.apiKey;
  return (
    <Dialog title={`Revoke “${name}”?`} onClose={props.onClose}>
      <p>
        Anything that uses <strong>{name}</strong>
        {prefix ? (
          <>
            {' '}
            (<code>{prefix}…</code>)
          </>
        ) : null}{' '}
        will be refused from now on. This can't be undone.
      </p>
      <ErrorText message={error} />
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => void revoke()}>
          {busy ? 'Revoking…' : 'Revoke key'}
        </button>
      </div>
    </Dialog>
  );
}

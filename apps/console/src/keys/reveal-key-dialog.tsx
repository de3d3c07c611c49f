import { useRef, useState } from 'preact/hooks';
import type { CreatedKey } from '../api/types';
import { Dialog } from '../ui/dialog';

/**
 * Step 2: the key, shown this once. Escape does not close it; only confirming that the key
 * was saved does, and the key leaves the page's memory with the dialog.
 */
export function RevealKeyDialog({ created, onDone }: { created: CreatedKey; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('yes');
    } catch {
      field.current?.select();
      setCopied('failed');
    }
  };
  return (
    <Dialog title="Save your new key" dismissible={false} onClose={onDone}>
      <p id="key-warning" class="warning">
        Copy this key and store it somewhere safe, such as a password manager. It won't be shown again.
      </p>
      <label for="new-key-value">{created.name}</label>
      <div class="copy-row">
        <input
          id="new-key-value"
          ref={field}
          class="key-value"
          readOnly
          value={created.key}
          aria-describedby="key-warning"
          onFocus={(event) => event.currentTarget.select()}
        />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p class="hint" role="status">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'failed'
            ? 'Copying was blocked: the key is selected, press Ctrl+C (⌘C on a Mac).'
            : ''}
      </p>
      <label class="check">
        <input type="checkbox" checked={saved} onChange={(event) => setSaved(event.currentTarget.checked)} />I have saved this key
      </label>
      <div class="actions">
        <button type="button" disabled={!saved} onClick={onDone}>
          Done
        </button>
      </div>
    </Dialog>
  );
}

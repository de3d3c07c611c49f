import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface DialogProps {
  title: string;
  /** false: Escape does nothing; the dialog closes only through its own buttons. */
  dismissible?: boolean;
  onClose: () => void;
  children: ComponentChildren;
}

/**
 * A native modal <dialog>: the browser traps focus inside it, makes the page behind inert and
 * gives focus back to the button that opened it when it closes.
 */
export function Dialog({ title, dismissible = true, onClose, children }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current!;
    dialog.showModal();
    return () => dialog.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="dialog-title"
      onCancel={(event) => {
        event.preventDefault();
        if (dismissible) onClose();
      }}
    >
      <h2 id="dialog-title">{title}</h2>
      {children}
    </dialog>
  );
}

export function ErrorText({ message }: { message: string | null }) {
  return message ? (
    <p class="error" role="alert">
      {message}
    </p>
  ) : null;
}

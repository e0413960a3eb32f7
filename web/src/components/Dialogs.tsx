// The create and edit dialogs of a page: which one is open, and the Cancel and submit buttons at
// the foot of each one's form.
import { type ReactNode, useState } from "react";

/** What a page's dialog edits (`true` for a create dialog), or null while it is closed. */
export function useDialogSlot<T = true>() {
  const [open, setOpen] = useState<T | null>(null);
  const close = () => setOpen(null);
  /** An onSaved/onCreated handler: closes the dialog, then `next` (a reload, a navigation). */
  const closeThen =
    <A extends unknown[]>(next: (...args: A) => void) =>
    (...args: A) => {
      setOpen(null);
      next(...args);
    };
  return { open, show: setOpen, close, closeThen };
}

/** Cancel and the submit button (disabled while busy) at the foot of a dialog's form. */
export function DialogButtons(props: { onCancel: () => void; submit: ReactNode; busy: boolean; disabled?: boolean }) {
  return (
    <div className="actions">
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={props.busy || props.disabled}>
        {props.submit}
      </button>
    </div>
  );
}

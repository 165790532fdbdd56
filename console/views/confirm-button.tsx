// A button whose action needs a second, explicit confirmation on the page (no browser dialog):
// the first press shows what will happen with Confirm and Cancel; Escape or Cancel backs out.
// The action's refusal is shown beside it, never swallowed.

import { useState } from 'preact/hooks';
import { explain } from '../api.js';

export interface ConfirmButtonProps {
  label: string;
  /** What will happen, said before it happens. */
  consequence: string;
  action(): Promise<unknown>;
  danger?: boolean;
}

export function ConfirmButton({ label, consequence, action, danger }: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const run = async (): Promise<void> => {
    setBusy(true);
    setFailure(undefined);
    try {
      await action();
      setAsking(false);
    } catch (error) {
      setFailure(explain(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="confirm">
      {asking ? (
        <span class="confirming" role="group" aria-label={`Confirm ${label}`} onKeyDown={(event) => event.key === 'Escape' && setAsking(false)}>
          <span class="consequence">{consequence}</span>
          <button type="button" class={danger ? 'danger' : 'primary'} disabled={busy} onClick={() => void run()} autoFocus>
            Confirm {label.toLowerCase()}
          </button>
          <button type="button" onClick={() => setAsking(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" class={danger ? 'danger' : ''} onClick={() => setAsking(true)}>
          {label}
        </button>
      )}
      {failure === undefined ? null : (
        <span class="error" role="alert">
          {failure}
        </span>
      )}
    </span>
  );
}

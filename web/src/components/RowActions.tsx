// What a list's rows do: small named buttons whose actions reload the list, a confirm before the
// destructive ones.
import type { ReactNode } from "react";
import { useAction, useConfirm } from "../ui";

/** useAction for a list's rows: `thenReload` reloads the list after it, `askThen` asks first. */
export function useRowActions(reload: () => void) {
  const act = useAction();
  const confirm = useConfirm();
  const thenReload = (fn: () => Promise<unknown>) =>
    act.run(async () => {
      await fn();
      reload();
    });
  /** Runs `fn` once the user confirms `question` with `action` (default Delete). */
  const askThen = async (question: string, fn: () => Promise<unknown>, action?: string) => {
    if (await confirm.ask(question, action)) await thenReload(fn);
  };
  return { ...act, thenReload, askThen, confirmDialog: confirm.element };
}

/** A small button in a table row, named with its row ("Delete ds1") for screen readers. */
export function RowButton(props: {
  label: string;
  danger?: boolean;
  title?: string;
  onClick: () => unknown;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className={props.danger ? "small danger" : "small"}
      aria-label={props.label}
      title={props.title}
      onClick={() => void props.onClick()}
    >
      {props.children}
    </button>
  );
}

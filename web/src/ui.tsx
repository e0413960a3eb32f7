// Shared pieces of every page: polling, tables with paging, dialogs, labelled fields, confirm,
// copy, status badges. Every input has a visible label; every dialog is a role=dialog with a name.
import {
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
} from "react";
import { ApiError } from "../../src/client/api";
import { pageRange, statusLabel } from "./format";

/** Loads now and again every `everyMs` while the tab is visible; `reload` loads at once. */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], everyMs = 3000) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await loadRef.current();
        if (live) {
          setData(value);
          setError(null);
        }
      } catch (err) {
        if (live) setError(messageOf(err));
      }
      if (live && everyMs > 0) timer = setTimeout(tickWhenVisible, everyMs);
    };
    const tickWhenVisible = () => {
      if (document.visibilityState === "visible") void run();
      else timer = setTimeout(tickWhenVisible, everyMs);
    };
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [...deps, tick, everyMs]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload, setData };
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function fieldOf(err: unknown): string | undefined {
  return err instanceof ApiError ? err.field : undefined;
}

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  className?: string;
}

/** Time and size columns never wrap: "2026-03-04 09:05:07" stays on one line. */
const NOWRAP = /^(Created|Updated|Uploaded|Registered|Modified|Finished|Start|End|Size|GPU in Use)$/;
const cellClass = <T,>(c: Column<T>) =>
  [c.className, NOWRAP.test(c.header) ? "nowrap" : ""].filter(Boolean).join(" ") || undefined;

export interface TableProps<T> {
  label: string;
  columns: Column<T>[];
  rows: T[] | null;
  rowKey: (row: T) => string;
  empty: ReactNode;
  onRowClick?: (row: T) => void;
  /** A load error: with nothing loaded yet, the table is left out (the page shows the error). */
  error?: string | null;
}

export function Table<T>(props: TableProps<T>) {
  const { rows, columns } = props;
  if (rows === null && props.error) return null;
  return (
    <div className="table-wrap">
      <table aria-label={props.label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.header} scope="col" className={cellClass(c)}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows === null ? (
            <tr>
              <td colSpan={columns.length} className="muted">
                Loading…
              </td>
            </tr>
          ) : rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="empty">
                {props.empty}
              </td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr
                key={props.rowKey(r)}
                className={props.onRowClick ? "pick" : undefined}
                onClick={props.onRowClick ? () => props.onRowClick?.(r) : undefined}
              >
                {columns.map((c) => (
                  <td key={c.header} className={cellClass(c)}>
                    {c.cell(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

export const PAGE_SIZES = [10, 25, 50, 100];

/** Paging state for a list: offset and rows per page. */
export function usePaging(initial = 10) {
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(initial);
  return { offset, limit, setOffset, setLimit };
}

export function Pager(props: { paging: ReturnType<typeof usePaging>; count: number; total: number; what: string }) {
  const { offset, limit, setOffset, setLimit } = props.paging;
  const id = useId();
  useEffect(() => {
    if (offset > 0 && offset >= props.total) setOffset(Math.max(0, Math.floor((props.total - 1) / limit) * limit));
  }, [offset, props.total, limit, setOffset]);
  return (
    <nav className="pager" aria-label={`${props.what} pages`}>
      <label htmlFor={id}>Rows per page</label>
      <select
        id={id}
        value={limit}
        onChange={(e) => {
          setLimit(Number(e.target.value));
          setOffset(0);
        }}
      >
        {PAGE_SIZES.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
      <span>{pageRange(offset, props.count, props.total)}</span>
      <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))}>
        Previous
      </button>
      <button type="button" disabled={offset + limit >= props.total} onClick={() => setOffset(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

export function Dialog(props: { title: string; children: ReactNode; onClose: () => void; wide?: boolean }) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  // Pages pass a new onClose on every render (a list polls every few seconds): read it through a
  // ref, so focus moves to the first field once, when the dialog opens, not on every poll.
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const first = ref.current?.querySelector<HTMLElement>("input:not([type=hidden]), select, textarea, button");
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose.current();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div className="backdrop">
      <div
        role="dialog"
        aria-modal="true"
        aria-labelledby={id}
        className={props.wide ? "dialog wide" : "dialog"}
        ref={ref}
      >
        <h2 id={id}>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

type FieldProps = { label: string; hint?: ReactNode; error?: string | null; optional?: boolean };

function FieldShell(props: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className={props.error ? "field invalid" : "field"}>
      <label htmlFor={props.id}>
        {props.label}
        {props.optional ? <span className="muted"> – Optional</span> : null}
      </label>
      {props.children}
      {props.hint ? (
        <small className="hint" id={`${props.id}-hint`}>
          {props.hint}
        </small>
      ) : null}
      {props.error ? (
        <small className="error" id={`${props.id}-error`} role="alert">
          {props.error}
        </small>
      ) : null}
    </div>
  );
}

export function Input(props: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const { label, hint, error, optional, ...rest } = props;
  const id = useId();
  return (
    <FieldShell id={id} label={label} hint={hint} error={error} optional={optional}>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}
        {...rest}
      />
    </FieldShell>
  );
}

export function TextArea(props: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const { label, hint, error, optional, ...rest } = props;
  const id = useId();
  return (
    <FieldShell id={id} label={label} hint={hint} error={error} optional={optional}>
      <textarea id={id} aria-invalid={error ? true : undefined} {...rest} />
    </FieldShell>
  );
}

export function Select(props: FieldProps & SelectHTMLAttributes<HTMLSelectElement> & { children: ReactNode }) {
  const { label, hint, error, optional, children, ...rest } = props;
  const id = useId();
  return (
    <FieldShell id={id} label={label} hint={hint} error={error} optional={optional}>
      <select id={id} aria-invalid={error ? true : undefined} {...rest}>
        {children}
      </select>
    </FieldShell>
  );
}

/** A Select's options: each value, shown as `label(value)` (by default the value itself). */
export function Options(props: { values: readonly string[]; label?: (value: string) => string }) {
  return props.values.map((v) => (
    <option key={v} value={v}>
      {props.label ? props.label(v) : v}
    </option>
  ));
}

/** A checkbox with its label to the right. */
export function Check(props: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string }) {
  const id = useId();
  return (
    <div className="check">
      <input id={id} type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} />
      <label htmlFor={id}>{props.label}</label>
      {props.hint ? <small className="hint">{props.hint}</small> : null}
    </div>
  );
}

/** Two lists, as the manual's Available/Chosen pickers, done as one list of checkboxes. */
export function Picker(props: {
  label: string;
  options: string[];
  chosen: string[];
  onChange: (chosen: string[]) => void;
  optional?: boolean;
}) {
  const [filter, setFilter] = useState("");
  const shown = props.options.filter((o) => o.includes(filter.trim()));
  return (
    <fieldset className="picker">
      <legend>
        {props.label}
        {props.optional ? <span className="muted"> – Optional</span> : null}
      </legend>
      {props.options.length > 8 ? (
        <input aria-label={`Filter ${props.label}`} placeholder="Filter" onChange={(e) => setFilter(e.target.value)} />
      ) : null}
      <div className="picker-list">
        {shown.length === 0 ? <span className="muted">none</span> : null}
        {shown.map((o) => (
          <Check
            key={o}
            label={o}
            checked={props.chosen.includes(o)}
            onChange={(on) => props.onChange(on ? [...props.chosen, o] : props.chosen.filter((c) => c !== o))}
          />
        ))}
      </div>
      <small className="hint">Chosen: {props.chosen.length ? props.chosen.join(", ") : "none"}</small>
    </fieldset>
  );
}

export function ErrorText({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="error" role="alert">
      {children}
    </p>
  );
}

export function Status({ value, title }: { value: string; title?: string | null }) {
  return (
    <span className={`status status-${value}`} title={title ?? undefined}>
      {statusLabel(value)}
    </span>
  );
}

/** A status badge with its reason below, except while the status is `quietWhen` (the healthy one). */
export function StatusWithReason(props: {
  value: string;
  reason: string | null | undefined;
  quietWhen: string;
  title?: string | null;
}) {
  return (
    <>
      <Status value={props.value} title={props.title} />
      {props.reason && props.value !== props.quietWhen ? <div className="reason">{props.reason}</div> : null}
    </>
  );
}

/** A "Copy" button that puts `text` on the clipboard (falls back to selecting it). */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const ta = document.createElement("textarea");
      ta.value = text;
      document.body.append(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return (
    <button type="button" className="small" onClick={copy} aria-label={label}>
      {done ? "Copied" : label}
    </button>
  );
}

/** A confirm dialog as a promise: `await ask("Delete x?", "Delete")`. */
export function useConfirm() {
  const [q, setQ] = useState<{ text: string; action: string; resolve: (ok: boolean) => void } | null>(null);
  const ask = useCallback(
    (text: string, action = "Delete") => new Promise<boolean>((resolve) => setQ({ text, action, resolve })),
    [],
  );
  const close = useCallback(
    (ok: boolean) => {
      q?.resolve(ok);
      setQ(null);
    },
    [q],
  );
  const element = q ? (
    <Dialog title="Are you sure?" onClose={() => close(false)}>
      <p>{q.text}</p>
      <div className="actions">
        <button type="button" onClick={() => close(false)}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={() => close(true)}>
          {q.action}
        </button>
      </div>
    </Dialog>
  ) : null;
  return { ask, element };
}

/** A page's main button, in its head: Create …, Add …, Upload …. */
export function PrimaryButton(props: { onClick: () => void; children: ReactNode }) {
  return (
    <button type="button" className="primary" onClick={props.onClick}>
      {props.children}
    </button>
  );
}

export function PageHead(props: { title: string; crumbs?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-head">
      <div>
        {props.crumbs ? <div className="crumbs">{props.crumbs}</div> : null}
        <h1>{props.title}</h1>
      </div>
      <div className="toolbar">{props.children}</div>
    </header>
  );
}

/** Runs an async action with a busy flag and its error message. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [field, setField] = useState<string | undefined>(undefined);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    setField(undefined);
    try {
      return await fn();
    } catch (err) {
      setError(messageOf(err));
      setField(fieldOf(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  /** The error when the server named `name` as the field at fault, else null. */
  const fieldError = (name: string) => (field === name ? error : null);
  /** The error unless the server named one of `shownByField` (their fields show it). */
  const otherError = (...shownByField: string[]) => (shownByField.includes(field ?? "") ? null : error);
  return { busy, error, field, run, setError, fieldError, otherError };
}

/** The CPU Cores and Memory (MiB) pair of the create dialogs (Docker limits; empty: none or inherited). */
export function CpuMemoryFields(props: {
  hint: string;
  placeholder: string;
  /** The dialog's form: its cpus and memoryMiB text, `set(key)` their onChange, `err(key)` the server's error. */
  fields: {
    form: { cpus: string; memoryMiB: string };
    set: (key: "cpus" | "memoryMiB") => InputHTMLAttributes<HTMLInputElement>["onChange"];
    err: (field: string) => string | null;
  };
}) {
  const { form, set, err } = props.fields;
  return (
    <div className="row">
      <Input
        label="CPU Cores"
        type="number"
        min={0}
        step={0.5}
        optional
        hint={props.hint}
        placeholder={props.placeholder}
        value={form.cpus}
        onChange={set("cpus")}
        error={err("cpus")}
      />
      <Input
        label="Memory (MiB)"
        type="number"
        min={0}
        optional
        placeholder={props.placeholder}
        value={form.memoryMiB}
        onChange={set("memoryMiB")}
        error={err("memoryMiB")}
      />
    </div>
  );
}

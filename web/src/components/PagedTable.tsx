// A list the server pages: the page polled (usePagedList) and its table with the pager below.
import { Pager, Table, type TableProps, usePaging, usePoll } from "../ui";

/** The page a list request asks for, as the API's `limit` and `offset` query strings. */
export type PageQuery = { limit: string; offset: string };

/** Polls the page the paging state points at; `load` gets it as query strings. */
export function usePagedList<T>(
  load: (page: PageQuery) => Promise<T>,
  deps: unknown[],
  options: { everyMs?: number; pageSize?: number } = {},
) {
  const paging = usePaging(options.pageSize);
  const list = usePoll(
    () => load({ limit: String(paging.limit), offset: String(paging.offset) }),
    [...deps, paging.limit, paging.offset],
    options.everyMs,
  );
  return { ...list, paging };
}

interface PagedList<T> {
  data: { items: T[]; total: number } | null;
  error: string | null;
  paging: ReturnType<typeof usePaging>;
}

/** The page's rows (left out on a first load error) and, once loaded, the pager named as the table. */
export function PagedTable<T>(props: Omit<TableProps<T>, "rows" | "error"> & { list: PagedList<T> }) {
  const { list, ...table } = props;
  return (
    <>
      <Table {...table} error={list.error} rows={list.data?.items ?? null} />
      {list.data ? (
        <Pager paging={list.paging} count={list.data.items.length} total={list.data.total} what={props.label} />
      ) : null}
    </>
  );
}

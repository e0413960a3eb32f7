// Who is logged in and which workspace is current, for every page.
import { createContext, useContext } from "react";
import type { Api } from "../../src/client/api";

type Me = Exclude<Awaited<ReturnType<Api["api"]["me"]["get"]>>["data"], null>;
type WorkspaceList = Exclude<Awaited<ReturnType<Api["api"]["workspaces"]["get"]>>["data"], null>;
export type User = Me;
export type WorkspaceSummary = WorkspaceList["items"][number];

export interface Session {
  me: Me;
  isAdmin: boolean;
  /** Workspaces this user can see (admins: all). */
  workspaces: WorkspaceSummary[];
  /** The current workspace (switcher), or null when there is none. */
  workspace: string | null;
  setWorkspace: (ws: string) => void;
  reloadWorkspaces: () => void;
  logout: () => Promise<void>;
  refreshMe: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside the logged-in app");
  return s;
}

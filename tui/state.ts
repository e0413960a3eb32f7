// Dashboard state: a reducer over a union of actions.
import type { Health, User } from "./client";

export interface Snapshot {
  health: Health;
  me: User;
  users: { items: User[]; total: number } | null;
  logDays: { day: string; bytes: number }[] | null;
}

export interface State {
  loading: boolean;
  error: string | null;
  data: Snapshot | null;
  refreshedAt: Date | null;
}

export type Action =
  | { type: "refresh" }
  | { type: "loaded"; data: Snapshot; at: Date }
  | { type: "failed"; error: string };

export const initialState: State = { loading: true, error: null, data: null, refreshedAt: null };

export function reduce(state: State, action: Action): State {
  switch (action.type) {
    case "refresh":
      return { ...state, loading: true };
    case "loaded":
      return { loading: false, error: null, data: action.data, refreshedAt: action.at };
    case "failed":
      return { ...state, loading: false, error: action.error };
  }
}

/** Keys, in one table that also feeds the help bar. */
export const KEYS = [
  { key: "r", label: "refresh" },
  { key: "q", label: "quit" },
] as const;

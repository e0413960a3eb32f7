import type { Tables } from "../store/store";

type UserRow = Tables["users"]["$inferSelect"];

export interface UserView {
  userId: string;
  role: string;
  active: boolean;
  mustChangePassword: boolean;
  totpEnabled: boolean;
  hasSshKey: boolean;
  createdAt: string;
  updatedAt: string;
}

export function toUserView(row: UserRow): UserView {
  return {
    userId: row.userId,
    role: row.role,
    active: row.active,
    mustChangePassword: row.mustChangePassword,
    totpEnabled: row.totpEnabled,
    hasSshKey: row.sshPublicKey !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

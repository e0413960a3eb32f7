import type { Tables } from "../store/store";
import type { User } from "./model";

type UserRow = Tables["users"]["$inferSelect"];

export function toUserView(row: UserRow): User {
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

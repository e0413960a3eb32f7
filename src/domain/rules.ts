// The docs/product.md#accounts rules for IDs, names and passwords. Pure: each returns an error message or null.

export const ROLES = ["admin", "manager", "owner", "user"] as const;
export type Role = (typeof ROLES)[number];

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PASSWORD_CHARS = /^[A-Za-z0-9~!@#$%^&*<>?]+$/;

function slugProblem(value: string, what: string, min: number, max: number): string | null {
  if (value.length < min || value.length > max) return `${what} must be ${min}–${max} characters long`;
  if (value.includes("--")) return `${what} must not contain two hyphens in a row`;
  if (value.startsWith("-") || value.endsWith("-")) return `${what} must not start or end with a hyphen`;
  if (!SLUG.test(value)) return `${what} may contain only lowercase letters, digits and hyphens`;
  return null;
}

/** User ID: 3–20 chars, lowercase letters, digits, hyphen; no "--"; no hyphen first or last. */
export function userIdProblem(value: string): string | null {
  return slugProblem(value, "user ID", 3, 20);
}

/** Workspace, training and dataset names: at most 20 chars, same alphabet and hyphen rule. */
export function nameProblem(value: string, what = "name"): string | null {
  return slugProblem(value, what, 1, 20);
}

/** 8–20 chars of letters, digits and ~!@#$%^&*<>?, with at least one letter, digit and special. */
export function passwordProblem(value: string): string | null {
  if (value.length < 8 || value.length > 20) return "password must be 8–20 characters long";
  if (!PASSWORD_CHARS.test(value))
    return "password may contain only letters, digits and the special characters ~!@#$%^&*<>?";
  if (!/[A-Za-z]/.test(value)) return "password needs at least one letter";
  if (!/[0-9]/.test(value)) return "password needs at least one digit";
  if (!/[~!@#$%^&*<>?]/.test(value)) return "password needs at least one of ~!@#$%^&*<>?";
  return null;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

// The closed sets of values stored in text columns (other than job and node states, which live
// with their rules in jobState.ts and nodeHealth.ts, and roles in rules.ts).

/** pending (queued, waiting for an upload or being prepared), ready, failed. */
export const IMAGE_STATUSES = ["pending", "ready", "failed"] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/**
 * Where a pending image is: queued, upload (waiting for its tar or build context), preparing
 * (pulling, building or loading on the master). Null once the image is ready or failed.
 */
export const IMAGE_STAGES = ["queued", "upload", "preparing"] as const;
export type ImageStage = (typeof IMAGE_STAGES)[number];

export const IMAGE_SOURCE_TYPES = ["pull", "build", "tar"] as const;
export type ImageSourceType = (typeof IMAGE_SOURCE_TYPES)[number];

export const IMAGE_RELEASES = ["global", "workspace"] as const;
export type ImageRelease = (typeof IMAGE_RELEASES)[number];

export const DATASET_ACCESS = ["read-write", "read-only"] as const;
export type DatasetAccess = (typeof DATASET_ACCESS)[number];

export const TRAINING_TYPES = ["advanced", "builtin", "notebook"] as const;
export type TrainingType = (typeof TRAINING_TYPES)[number];

export const TRAINING_ACCESS = ["public", "private"] as const;
export type TrainingAccess = (typeof TRAINING_ACCESS)[number];

/** Whether `value` is one of `values` (narrows a checked input to the column's type). */
export function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

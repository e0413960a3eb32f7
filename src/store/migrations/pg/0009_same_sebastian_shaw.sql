-- Hand-edited after drizzle-kit generate: text → jsonb converts each value (USING), and the
-- text default of assignments is dropped before the type change and set again after it.
ALTER TABLE "jobs" ALTER COLUMN "parameters" SET DATA TYPE jsonb USING "parameters"::jsonb;--> statement-breakpoint
ALTER TABLE "jobs" ALTER COLUMN "gpu_options" SET DATA TYPE jsonb USING "gpu_options"::jsonb;--> statement-breakpoint
ALTER TABLE "jobs" ALTER COLUMN "assignments" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "jobs" ALTER COLUMN "assignments" SET DATA TYPE jsonb USING "assignments"::jsonb;--> statement-breakpoint
ALTER TABLE "jobs" ALTER COLUMN "assignments" SET DEFAULT '[]'::jsonb;--> statement-breakpoint
ALTER TABLE "nodes" ALTER COLUMN "interfaces" SET DATA TYPE jsonb USING "interfaces"::jsonb;--> statement-breakpoint
ALTER TABLE "nodes" ALTER COLUMN "network_interfaces" SET DATA TYPE jsonb USING "network_interfaces"::jsonb;--> statement-breakpoint
ALTER TABLE "nodes" ALTER COLUMN "gpus" SET DATA TYPE jsonb USING "gpus"::jsonb;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "stage" text;--> statement-breakpoint
-- Images pending before this column: the stage their reason text said (upload: "waiting for the upload").
UPDATE "images" SET "stage" = CASE
  WHEN "status_reason" LIKE 'waiting%' THEN 'upload'
  WHEN "status_reason" = 'queued' THEN 'queued'
  ELSE 'preparing'
END WHERE "status" = 'pending';--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "reason_code" text;

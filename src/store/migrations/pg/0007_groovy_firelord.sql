ALTER TABLE "jobs" ADD COLUMN "kind" text DEFAULT 'run' NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "notebook_token" text;--> statement-breakpoint
ALTER TABLE "trainings" ADD COLUMN "idle_timeout_seconds" integer;
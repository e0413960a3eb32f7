CREATE TABLE "deployments" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"training_id" text NOT NULL,
	"source_job_id" text,
	"image" text NOT NULL,
	"command" text NOT NULL,
	"port" integer NOT NULL,
	"gpus" double precision NOT NULL,
	"job_id" text,
	"created_by" text NOT NULL,
	"created_at" text NOT NULL,
	"updated_at" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "service_port" integer;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_training_id_trainings_id_fk" FOREIGN KEY ("training_id") REFERENCES "public"."trainings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_ws_name_idx" ON "deployments" USING btree ("workspace","name");
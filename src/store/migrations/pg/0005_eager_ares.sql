CREATE TABLE "job_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"at" text NOT NULL,
	"from_state" text,
	"to_state" text NOT NULL,
	"reason" text
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"training_id" text NOT NULL,
	"workspace" text NOT NULL,
	"name" text NOT NULL,
	"seq" integer NOT NULL,
	"after_job_id" text,
	"image" text NOT NULL,
	"dataset" text,
	"command" text NOT NULL,
	"parameters" text NOT NULL,
	"gpu_options" text NOT NULL,
	"gpus" double precision NOT NULL,
	"node_count" integer DEFAULT 1 NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"node" text,
	"assignments" text DEFAULT '[]' NOT NULL,
	"exit_code" integer,
	"attempts" integer DEFAULT 0 NOT NULL,
	"requeues" integer DEFAULT 0 NOT NULL,
	"retry_on_node_loss" boolean DEFAULT true NOT NULL,
	"created_by" text NOT NULL,
	"created_at" text NOT NULL,
	"queued_at" text,
	"started_at" text,
	"finished_at" text,
	"updated_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "training_users" (
	"training_id" text NOT NULL,
	"user_id" text NOT NULL,
	CONSTRAINT "training_users_training_id_user_id_pk" PRIMARY KEY("training_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "trainings" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"type" text NOT NULL,
	"gpus" double precision NOT NULL,
	"access" text NOT NULL,
	"owner" text NOT NULL,
	"image" text,
	"builtin_model" text,
	"created_at" text NOT NULL,
	"updated_at" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_training_id_trainings_id_fk" FOREIGN KEY ("training_id") REFERENCES "public"."trainings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "training_users" ADD CONSTRAINT "training_users_training_id_trainings_id_fk" FOREIGN KEY ("training_id") REFERENCES "public"."trainings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "training_users" ADD CONSTRAINT "training_users_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trainings" ADD CONSTRAINT "trainings_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trainings" ADD CONSTRAINT "trainings_owner_users_user_id_fk" FOREIGN KEY ("owner") REFERENCES "public"."users"("user_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_events_job_idx" ON "job_events" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "jobs_status_idx" ON "jobs" USING btree ("status");--> statement-breakpoint
CREATE INDEX "jobs_training_idx" ON "jobs" USING btree ("training_id");--> statement-breakpoint
CREATE UNIQUE INDEX "trainings_ws_name_idx" ON "trainings" USING btree ("workspace","name");
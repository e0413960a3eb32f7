CREATE TABLE "dataset_files" (
	"dataset_id" text NOT NULL,
	"path" text NOT NULL,
	"modified_by" text NOT NULL,
	"modified_at" text NOT NULL,
	CONSTRAINT "dataset_files_dataset_id_path_pk" PRIMARY KEY("dataset_id","path")
);
--> statement-breakpoint
CREATE TABLE "datasets" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace" text NOT NULL,
	"name" text NOT NULL,
	"access" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" text NOT NULL,
	"updated_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspace_users" (
	"workspace" text NOT NULL,
	"user_id" text NOT NULL,
	CONSTRAINT "workspace_users_workspace_user_id_pk" PRIMARY KEY("workspace","user_id")
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"name" text PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"starts_at" text NOT NULL,
	"ends_at" text NOT NULL,
	"training_gpus" integer NOT NULL,
	"deployment_gpus" integer NOT NULL,
	"manager" text NOT NULL,
	"created_at" text NOT NULL,
	"updated_at" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dataset_files" ADD CONSTRAINT "dataset_files_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_created_by_users_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("user_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_users" ADD CONSTRAINT "workspace_users_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_users" ADD CONSTRAINT "workspace_users_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_manager_users_user_id_fk" FOREIGN KEY ("manager") REFERENCES "public"."users"("user_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "datasets_ws_name_idx" ON "datasets" USING btree ("workspace","name");--> statement-breakpoint
CREATE INDEX "workspace_users_user_idx" ON "workspace_users" USING btree ("user_id");
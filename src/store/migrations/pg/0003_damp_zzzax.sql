CREATE TABLE "image_workspaces" (
	"image_id" text NOT NULL,
	"workspace" text NOT NULL,
	CONSTRAINT "image_workspaces_image_id_workspace_pk" PRIMARY KEY("image_id","workspace")
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"source_type" text NOT NULL,
	"source" text NOT NULL,
	"reference" text NOT NULL,
	"release" text NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"size_bytes" bigint,
	"docker_id" text,
	"uploader" text NOT NULL,
	"builtin" boolean DEFAULT false NOT NULL,
	"created_at" text NOT NULL,
	"updated_at" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "image_workspaces" ADD CONSTRAINT "image_workspaces_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_workspaces" ADD CONSTRAINT "image_workspaces_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "image_workspaces_ws_idx" ON "image_workspaces" USING btree ("workspace");--> statement-breakpoint
CREATE INDEX "images_name_idx" ON "images" USING btree ("name");
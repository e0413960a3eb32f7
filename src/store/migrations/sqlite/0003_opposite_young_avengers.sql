CREATE TABLE `image_workspaces` (
	`image_id` text NOT NULL,
	`workspace` text NOT NULL,
	PRIMARY KEY(`image_id`, `workspace`),
	FOREIGN KEY (`image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`workspace`) REFERENCES `workspaces`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `image_workspaces_ws_idx` ON `image_workspaces` (`workspace`);--> statement-breakpoint
CREATE TABLE `images` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`source_type` text NOT NULL,
	`source` text NOT NULL,
	`reference` text NOT NULL,
	`release` text NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`size_bytes` integer,
	`docker_id` text,
	`uploader` text NOT NULL,
	`builtin` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `images_name_idx` ON `images` (`name`);
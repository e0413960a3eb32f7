CREATE TABLE `job_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` text NOT NULL,
	`at` text NOT NULL,
	`from_state` text,
	`to_state` text NOT NULL,
	`reason` text,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `job_events_job_idx` ON `job_events` (`job_id`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`training_id` text NOT NULL,
	`workspace` text NOT NULL,
	`name` text NOT NULL,
	`seq` integer NOT NULL,
	`after_job_id` text,
	`image` text NOT NULL,
	`dataset` text,
	`command` text NOT NULL,
	`parameters` text NOT NULL,
	`gpu_options` text NOT NULL,
	`gpus` real NOT NULL,
	`node_count` integer DEFAULT 1 NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`node` text,
	`assignments` text DEFAULT '[]' NOT NULL,
	`exit_code` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`requeues` integer DEFAULT 0 NOT NULL,
	`retry_on_node_loss` integer DEFAULT true NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`queued_at` text,
	`started_at` text,
	`finished_at` text,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`training_id`) REFERENCES `trainings`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `jobs_status_idx` ON `jobs` (`status`);--> statement-breakpoint
CREATE INDEX `jobs_training_idx` ON `jobs` (`training_id`);--> statement-breakpoint
CREATE TABLE `training_users` (
	`training_id` text NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`training_id`, `user_id`),
	FOREIGN KEY (`training_id`) REFERENCES `trainings`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `trainings` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`type` text NOT NULL,
	`gpus` real NOT NULL,
	`access` text NOT NULL,
	`owner` text NOT NULL,
	`image` text,
	`builtin_model` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`workspace`) REFERENCES `workspaces`(`name`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`owner`) REFERENCES `users`(`user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `trainings_ws_name_idx` ON `trainings` (`workspace`,`name`);
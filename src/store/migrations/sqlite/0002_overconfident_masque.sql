CREATE TABLE `dataset_files` (
	`dataset_id` text NOT NULL,
	`path` text NOT NULL,
	`modified_by` text NOT NULL,
	`modified_at` text NOT NULL,
	PRIMARY KEY(`dataset_id`, `path`),
	FOREIGN KEY (`dataset_id`) REFERENCES `datasets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `datasets` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace` text NOT NULL,
	`name` text NOT NULL,
	`access` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`workspace`) REFERENCES `workspaces`(`name`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `datasets_ws_name_idx` ON `datasets` (`workspace`,`name`);--> statement-breakpoint
CREATE TABLE `workspace_users` (
	`workspace` text NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`workspace`, `user_id`),
	FOREIGN KEY (`workspace`) REFERENCES `workspaces`(`name`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `workspace_users_user_idx` ON `workspace_users` (`user_id`);--> statement-breakpoint
CREATE TABLE `workspaces` (
	`name` text PRIMARY KEY NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`starts_at` text NOT NULL,
	`ends_at` text NOT NULL,
	`training_gpus` integer NOT NULL,
	`deployment_gpus` integer NOT NULL,
	`manager` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`manager`) REFERENCES `users`(`user_id`) ON UPDATE no action ON DELETE no action
);

CREATE TABLE `deployments` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`training_id` text NOT NULL,
	`source_job_id` text,
	`image` text NOT NULL,
	`command` text NOT NULL,
	`port` integer NOT NULL,
	`gpus` real NOT NULL,
	`job_id` text,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`workspace`) REFERENCES `workspaces`(`name`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`training_id`) REFERENCES `trainings`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deployments_ws_name_idx` ON `deployments` (`workspace`,`name`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `service_port` integer;
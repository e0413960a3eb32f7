ALTER TABLE `jobs` ADD `kind` text DEFAULT 'run' NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `notebook_token` text;--> statement-breakpoint
ALTER TABLE `trainings` ADD `idle_timeout_seconds` integer;
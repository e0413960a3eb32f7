ALTER TABLE `deployments` ADD `cpus` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `deployments` ADD `memory_mib` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `cpus` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `memory_mib` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `trainings` ADD `cpus` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `trainings` ADD `memory_mib` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `workspaces` ADD `cpus` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `workspaces` ADD `memory_mib` integer DEFAULT 0 NOT NULL;
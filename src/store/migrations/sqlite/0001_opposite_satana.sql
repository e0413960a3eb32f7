CREATE TABLE `nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`ip` text NOT NULL,
	`ssh_port` integer NOT NULL,
	`ssh_user` text NOT NULL,
	`host_key_fingerprint` text,
	`desired` text NOT NULL,
	`status` text NOT NULL,
	`status_message` text,
	`interfaces` text NOT NULL,
	`network_interfaces` text NOT NULL,
	`gpus` text NOT NULL,
	`cpus` integer NOT NULL,
	`memory_mib` integer NOT NULL,
	`docker_version` text,
	`nvidia_runtime` integer DEFAULT false NOT NULL,
	`hostname` text,
	`last_seen_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `nodes_name_unique` ON `nodes` (`name`);
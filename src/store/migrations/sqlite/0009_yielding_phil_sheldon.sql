ALTER TABLE `images` ADD `stage` text;--> statement-breakpoint
-- Hand-added after drizzle-kit generate: images pending before this column get the stage their
-- reason text said (upload: "waiting for the upload").
UPDATE `images` SET `stage` = CASE
  WHEN `status_reason` LIKE 'waiting%' THEN 'upload'
  WHEN `status_reason` = 'queued' THEN 'queued'
  ELSE 'preparing'
END WHERE `status` = 'pending';--> statement-breakpoint
ALTER TABLE `jobs` ADD `reason_code` text;

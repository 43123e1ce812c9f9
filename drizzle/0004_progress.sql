CREATE TABLE "canvas_identities" (
	"tenant_id" uuid NOT NULL,
	"canvas_user_id" text NOT NULL,
	"lti_sub" text,
	"user_id" uuid,
	"name" text,
	"sortable_name" text,
	"sources" text[] DEFAULT '{}'::text[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "canvas_identities_tenant_id_canvas_user_id_pk" PRIMARY KEY("tenant_id","canvas_user_id")
);
--> statement-breakpoint
CREATE TABLE "course_sync_states" (
	"course_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"status" text DEFAULT 'idle' NOT NULL,
	"run_id" uuid,
	"run_mode" text,
	"run_started_at" timestamp with time zone,
	"run_cursor" timestamp with time zone,
	"total" integer DEFAULT 0 NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"throttled" integer DEFAULT 0 NOT NULL,
	"last_full_sync_at" timestamp with time zone,
	"last_sync_at" timestamp with time zone,
	"submitted_since" timestamp with time zone,
	"last_duration_ms" integer,
	"last_requests" integer,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"issues" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"module_names" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credential_progress" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"credential_id" uuid NOT NULL,
	"canvas_user_id" text NOT NULL,
	"state" text DEFAULT 'not_started' NOT NULL,
	"modules_done" integer DEFAULT 0 NOT NULL,
	"modules_total" integer DEFAULT 0 NOT NULL,
	"done_module_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"missing_module_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"evidence_state" text DEFAULT 'missing' NOT NULL,
	"evidence_submission_id" text,
	"evidence_attempt" integer,
	"evidence_submitted_at" timestamp with time zone,
	"summary" text DEFAULT '' NOT NULL,
	"enrolled" boolean DEFAULT true NOT NULL,
	"ready_at" timestamp with time zone,
	"snapshot_attempt" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "evidence_files" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"snapshot_id" uuid NOT NULL,
	"canvas_file_id" text NOT NULL,
	"filename" text NOT NULL,
	"declared_content_type" text NOT NULL,
	"detected_content_type" text,
	"size" integer NOT NULL,
	"sha256" text,
	"bytes" "bytea",
	"status" text NOT NULL,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "evidence_snapshots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"credential_id" uuid NOT NULL,
	"canvas_user_id" text NOT NULL,
	"canvas_assignment_id" text NOT NULL,
	"canvas_submission_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"submission_type" text,
	"body" text,
	"url" text,
	"submitted_at" timestamp with time zone,
	"workflow_state" text,
	"score" real,
	"grade" text,
	"rubric_assessment" jsonb,
	"status" text DEFAULT 'complete' NOT NULL,
	"captured_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "live_event_receipts" (
	"tenant_id" uuid NOT NULL,
	"event_key" text NOT NULL,
	"event_name" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "live_event_receipts_tenant_id_event_key_pk" PRIMARY KEY("tenant_id","event_key")
);
--> statement-breakpoint
CREATE TABLE "progress_roster" (
	"tenant_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"canvas_user_id" text NOT NULL,
	"name" text,
	"enrolled" boolean DEFAULT true NOT NULL,
	"requirement_count" integer,
	"requirement_completed_count" integer,
	"progress_completed_at" text,
	"modules_fingerprint" text,
	"modules_read_at" timestamp with time zone,
	"modules_read_run" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "progress_roster_course_id_canvas_user_id_pk" PRIMARY KEY("course_id","canvas_user_id")
);
--> statement-breakpoint
CREATE TABLE "progress_settings" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"live_events_jwks_url" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "canvas_identities" ADD CONSTRAINT "canvas_identities_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "canvas_identities" ADD CONSTRAINT "canvas_identities_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "course_sync_states" ADD CONSTRAINT "course_sync_states_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "course_sync_states" ADD CONSTRAINT "course_sync_states_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_progress" ADD CONSTRAINT "credential_progress_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_progress" ADD CONSTRAINT "credential_progress_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_progress" ADD CONSTRAINT "credential_progress_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_files" ADD CONSTRAINT "evidence_files_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_files" ADD CONSTRAINT "evidence_files_snapshot_id_evidence_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."evidence_snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_snapshots" ADD CONSTRAINT "evidence_snapshots_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_snapshots" ADD CONSTRAINT "evidence_snapshots_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_snapshots" ADD CONSTRAINT "evidence_snapshots_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "live_event_receipts" ADD CONSTRAINT "live_event_receipts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "progress_roster" ADD CONSTRAINT "progress_roster_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "progress_roster" ADD CONSTRAINT "progress_roster_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "progress_settings" ADD CONSTRAINT "progress_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "canvas_identities_sub" ON "canvas_identities" USING btree ("tenant_id","lti_sub");--> statement-breakpoint
CREATE UNIQUE INDEX "credential_progress_unique" ON "credential_progress" USING btree ("course_id","credential_id","canvas_user_id");--> statement-breakpoint
CREATE INDEX "credential_progress_tenant_user" ON "credential_progress" USING btree ("tenant_id","canvas_user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "evidence_files_unique" ON "evidence_files" USING btree ("snapshot_id","canvas_file_id");--> statement-breakpoint
CREATE INDEX "evidence_files_tenant" ON "evidence_files" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "evidence_snapshots_attempt" ON "evidence_snapshots" USING btree ("credential_id","canvas_user_id","attempt");--> statement-breakpoint
CREATE INDEX "evidence_snapshots_tenant" ON "evidence_snapshots" USING btree ("tenant_id","canvas_user_id");--> statement-breakpoint
CREATE INDEX "live_event_receipts_received" ON "live_event_receipts" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "progress_roster_tenant" ON "progress_roster" USING btree ("tenant_id");
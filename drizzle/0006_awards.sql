CREATE TABLE "award_passbacks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"award_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"payload" jsonb,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "award_settings" (
	"credential_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"mode" text DEFAULT 'review' NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "awards" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"earner_id" uuid NOT NULL,
	"course_id" uuid,
	"credential_id" uuid,
	"version_id" uuid,
	"stack_id" uuid,
	"source" text NOT NULL,
	"review_item_id" uuid,
	"awarded_by" uuid,
	"reason" text,
	"hours" numeric(7, 2) DEFAULT 0 NOT NULL,
	"issued_credential_id" uuid,
	"awarded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"revocation_reason" text,
	CONSTRAINT "awards_achievement" CHECK (("awards"."version_id" IS NULL) <> ("awards"."stack_id" IS NULL)),
	CONSTRAINT "awards_bulk_reason" CHECK ("awards"."source" <> 'bulk' OR length(coalesce("awards"."reason", '')) > 0)
);
--> statement-breakpoint
CREATE TABLE "ceu_ledger" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"earner_id" uuid NOT NULL,
	"award_id" uuid NOT NULL,
	"kind" text DEFAULT 'earned' NOT NULL,
	"title" text NOT NULL,
	"hours" numeric(7, 2) NOT NULL,
	"ceus" numeric(7, 3) NOT NULL,
	"earned_on" date NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "earner_preferences" (
	"tenant_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"notify_award" boolean DEFAULT true NOT NULL,
	"notify_not_yet" boolean DEFAULT true NOT NULL,
	"public_slug" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "earner_preferences_tenant_id_user_id_pk" PRIMARY KEY("tenant_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "renewal_cycles" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"years" integer DEFAULT 5 NOT NULL,
	"anchor" date DEFAULT '2025-07-01' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stack_next_levels" (
	"stack_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"action" text NOT NULL,
	"canvas_course_id" text NOT NULL,
	"canvas_module_id" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "award_passbacks" ADD CONSTRAINT "award_passbacks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "award_passbacks" ADD CONSTRAINT "award_passbacks_award_id_awards_id_fk" FOREIGN KEY ("award_id") REFERENCES "public"."awards"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "award_settings" ADD CONSTRAINT "award_settings_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "award_settings" ADD CONSTRAINT "award_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "award_settings" ADD CONSTRAINT "award_settings_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "awards" ADD CONSTRAINT "awards_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "awards" ADD CONSTRAINT "awards_earner_id_users_id_fk" FOREIGN KEY ("earner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "awards" ADD CONSTRAINT "awards_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "awards" ADD CONSTRAINT "awards_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "awards" ADD CONSTRAINT "awards_version_id_micro_credential_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."micro_credential_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "awards" ADD CONSTRAINT "awards_stack_id_stacks_id_fk" FOREIGN KEY ("stack_id") REFERENCES "public"."stacks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "awards" ADD CONSTRAINT "awards_awarded_by_users_id_fk" FOREIGN KEY ("awarded_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ceu_ledger" ADD CONSTRAINT "ceu_ledger_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ceu_ledger" ADD CONSTRAINT "ceu_ledger_earner_id_users_id_fk" FOREIGN KEY ("earner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ceu_ledger" ADD CONSTRAINT "ceu_ledger_award_id_awards_id_fk" FOREIGN KEY ("award_id") REFERENCES "public"."awards"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "earner_preferences" ADD CONSTRAINT "earner_preferences_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "earner_preferences" ADD CONSTRAINT "earner_preferences_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "renewal_cycles" ADD CONSTRAINT "renewal_cycles_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stack_next_levels" ADD CONSTRAINT "stack_next_levels_stack_id_stacks_id_fk" FOREIGN KEY ("stack_id") REFERENCES "public"."stacks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stack_next_levels" ADD CONSTRAINT "stack_next_levels_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "award_passbacks_award_kind" ON "award_passbacks" USING btree ("award_id","kind");--> statement-breakpoint
CREATE INDEX "award_passbacks_state" ON "award_passbacks" USING btree ("tenant_id","state","updated_at");--> statement-breakpoint
CREATE UNIQUE INDEX "awards_earner_version" ON "awards" USING btree ("tenant_id","earner_id","version_id") WHERE "awards"."version_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "awards_earner_stack" ON "awards" USING btree ("tenant_id","earner_id","stack_id") WHERE "awards"."stack_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "awards_tenant_earner" ON "awards" USING btree ("tenant_id","earner_id","awarded_at");--> statement-breakpoint
CREATE INDEX "awards_tenant_credential" ON "awards" USING btree ("tenant_id","credential_id","awarded_at");--> statement-breakpoint
CREATE INDEX "awards_tenant_awarded" ON "awards" USING btree ("tenant_id","awarded_at");--> statement-breakpoint
CREATE UNIQUE INDEX "ceu_ledger_award_kind" ON "ceu_ledger" USING btree ("award_id","kind");--> statement-breakpoint
CREATE INDEX "ceu_ledger_earner" ON "ceu_ledger" USING btree ("tenant_id","earner_id","earned_on");--> statement-breakpoint
CREATE UNIQUE INDEX "earner_preferences_slug" ON "earner_preferences" USING btree ("public_slug");
CREATE TABLE "review_exemplar_attempts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"exemplar_id" uuid NOT NULL,
	"reviewer_id" uuid NOT NULL,
	"scores" jsonb NOT NULL,
	"agreement" real NOT NULL,
	"passed" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "review_affiliations" (
	"tenant_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"section_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"school" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "review_affiliations_course_id_user_id_pk" PRIMARY KEY("course_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "review_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"item_id" uuid,
	"actor_id" uuid,
	"action" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "review_exemplars" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"credential_id" uuid NOT NULL,
	"item_id" uuid NOT NULL,
	"title" text NOT NULL,
	"true_scores" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "review_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"credential_id" uuid NOT NULL,
	"version_id" uuid NOT NULL,
	"earner_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"previous_item_id" uuid,
	"snapshot_id" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"round" integer DEFAULT 1 NOT NULL,
	"calibration" text,
	"claimed_by" uuid,
	"claimed_at" timestamp with time zone,
	"decision_review_id" uuid,
	"decided_at" timestamp with time zone,
	"closed_reason" text,
	"submitted_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "review_settings" (
	"credential_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"max_attempts" integer,
	"blind" boolean DEFAULT false NOT NULL,
	"second_review" text DEFAULT 'none' NOT NULL,
	"second_review_share" real DEFAULT 0.2 NOT NULL,
	"exclude_same_section" boolean DEFAULT false NOT NULL,
	"exemplar_threshold" real DEFAULT 0.8 NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"item_id" uuid NOT NULL,
	"reviewer_id" uuid NOT NULL,
	"round" integer NOT NULL,
	"state" text DEFAULT 'draft' NOT NULL,
	"scores" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"criterion_comments" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"feedback" text DEFAULT '' NOT NULL,
	"computed_passed" boolean,
	"total" real,
	"decision" text,
	"override" boolean DEFAULT false NOT NULL,
	"override_comment" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"submitted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "review_exemplar_attempts" ADD CONSTRAINT "review_exemplar_attempts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_exemplar_attempts" ADD CONSTRAINT "review_exemplar_attempts_exemplar_id_review_exemplars_id_fk" FOREIGN KEY ("exemplar_id") REFERENCES "public"."review_exemplars"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_exemplar_attempts" ADD CONSTRAINT "review_exemplar_attempts_reviewer_id_users_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_affiliations" ADD CONSTRAINT "review_affiliations_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_affiliations" ADD CONSTRAINT "review_affiliations_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_affiliations" ADD CONSTRAINT "review_affiliations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_audit" ADD CONSTRAINT "review_audit_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_audit" ADD CONSTRAINT "review_audit_item_id_review_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."review_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_audit" ADD CONSTRAINT "review_audit_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_exemplars" ADD CONSTRAINT "review_exemplars_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_exemplars" ADD CONSTRAINT "review_exemplars_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_exemplars" ADD CONSTRAINT "review_exemplars_item_id_review_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."review_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_exemplars" ADD CONSTRAINT "review_exemplars_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_version_id_micro_credential_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."micro_credential_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_earner_id_users_id_fk" FOREIGN KEY ("earner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_claimed_by_users_id_fk" FOREIGN KEY ("claimed_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_settings" ADD CONSTRAINT "review_settings_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_settings" ADD CONSTRAINT "review_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_settings" ADD CONSTRAINT "review_settings_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_item_id_review_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."review_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_reviewer_id_users_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "review_exemplar_attempts_reviewer" ON "review_exemplar_attempts" USING btree ("tenant_id","reviewer_id","exemplar_id");--> statement-breakpoint
CREATE INDEX "review_affiliations_tenant" ON "review_affiliations" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "review_audit_item" ON "review_audit" USING btree ("tenant_id","item_id","at");--> statement-breakpoint
CREATE INDEX "review_exemplars_credential" ON "review_exemplars" USING btree ("tenant_id","credential_id");--> statement-breakpoint
CREATE UNIQUE INDEX "review_items_attempt" ON "review_items" USING btree ("tenant_id","earner_id","version_id","attempt");--> statement-breakpoint
CREATE INDEX "review_items_queue" ON "review_items" USING btree ("tenant_id","status","submitted_at","id");--> statement-breakpoint
CREATE INDEX "review_items_course_queue" ON "review_items" USING btree ("tenant_id","course_id","status","submitted_at");--> statement-breakpoint
CREATE INDEX "review_items_credential_queue" ON "review_items" USING btree ("tenant_id","credential_id","status","submitted_at");--> statement-breakpoint
CREATE INDEX "review_items_earner" ON "review_items" USING btree ("tenant_id","earner_id","credential_id");--> statement-breakpoint
CREATE INDEX "review_items_claimed" ON "review_items" USING btree ("tenant_id","claimed_by") WHERE "review_items"."claimed_by" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "reviews_item_reviewer" ON "reviews" USING btree ("item_id","reviewer_id");--> statement-breakpoint
CREATE INDEX "reviews_tenant_reviewer" ON "reviews" USING btree ("tenant_id","reviewer_id","state");
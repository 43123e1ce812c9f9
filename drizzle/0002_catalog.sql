CREATE TABLE "badge_images" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"content_type" text NOT NULL,
	"bytes" "bytea" NOT NULL,
	"sha256" text NOT NULL,
	"width" integer,
	"height" integer,
	"uploaded_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credential_attachments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"credential_id" uuid NOT NULL,
	"canvas_course_id" text NOT NULL,
	"module_ids" text[] NOT NULL,
	"assignment_id" text NOT NULL,
	"rubric_imported" boolean DEFAULT false NOT NULL,
	"attached_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "issuer_profiles" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"email" text NOT NULL,
	"description" text,
	"image_id" uuid,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "micro_credential_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"credential_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"name" text NOT NULL,
	"competency" text NOT NULL,
	"description" text NOT NULL,
	"key_method" text NOT NULL,
	"criteria_narrative" text NOT NULL,
	"evidence_prompts" jsonb NOT NULL,
	"rubric" jsonb NOT NULL,
	"passing_rule" jsonb NOT NULL,
	"hours" numeric(7, 2) NOT NULL,
	"alignments" jsonb NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"achievement_type" text DEFAULT 'MicroCredential' NOT NULL,
	"expiry_months" integer,
	"image" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "micro_credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"key" text NOT NULL,
	"state" text DEFAULT 'draft' NOT NULL,
	"current_version_id" uuid,
	"draft_version_id" uuid,
	"copied_from_id" uuid,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "stack_members" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"stack_id" uuid NOT NULL,
	"credential_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"prerequisite_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stacks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"kind" text NOT NULL,
	"required_count" integer,
	"image" jsonb NOT NULL,
	"state" text DEFAULT 'draft' NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "badge_images" ADD CONSTRAINT "badge_images_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "badge_images" ADD CONSTRAINT "badge_images_uploaded_by_users_id_fk" FOREIGN KEY ("uploaded_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_attachments" ADD CONSTRAINT "credential_attachments_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_attachments" ADD CONSTRAINT "credential_attachments_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_attachments" ADD CONSTRAINT "credential_attachments_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_attachments" ADD CONSTRAINT "credential_attachments_attached_by_users_id_fk" FOREIGN KEY ("attached_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuer_profiles" ADD CONSTRAINT "issuer_profiles_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuer_profiles" ADD CONSTRAINT "issuer_profiles_image_id_badge_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."badge_images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuer_profiles" ADD CONSTRAINT "issuer_profiles_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "micro_credential_versions" ADD CONSTRAINT "micro_credential_versions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "micro_credential_versions" ADD CONSTRAINT "micro_credential_versions_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "micro_credential_versions" ADD CONSTRAINT "micro_credential_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "micro_credentials" ADD CONSTRAINT "micro_credentials_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "micro_credentials" ADD CONSTRAINT "micro_credentials_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "micro_credentials" ADD CONSTRAINT "micro_credentials_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stack_members" ADD CONSTRAINT "stack_members_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stack_members" ADD CONSTRAINT "stack_members_stack_id_stacks_id_fk" FOREIGN KEY ("stack_id") REFERENCES "public"."stacks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stack_members" ADD CONSTRAINT "stack_members_credential_id_micro_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."micro_credentials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stacks" ADD CONSTRAINT "stacks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stacks" ADD CONSTRAINT "stacks_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stacks" ADD CONSTRAINT "stacks_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "badge_images_tenant_sha" ON "badge_images" USING btree ("tenant_id","sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "credential_attachments_course_credential" ON "credential_attachments" USING btree ("course_id","credential_id");--> statement-breakpoint
CREATE INDEX "credential_attachments_tenant" ON "credential_attachments" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "micro_credential_versions_number" ON "micro_credential_versions" USING btree ("credential_id","version");--> statement-breakpoint
CREATE INDEX "micro_credential_versions_tenant" ON "micro_credential_versions" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "micro_credentials_tenant_key" ON "micro_credentials" USING btree ("tenant_id","key");--> statement-breakpoint
CREATE INDEX "micro_credentials_tenant_course" ON "micro_credentials" USING btree ("tenant_id","course_id");--> statement-breakpoint
CREATE UNIQUE INDEX "stack_members_unique" ON "stack_members" USING btree ("stack_id","credential_id");--> statement-breakpoint
CREATE INDEX "stack_members_tenant" ON "stack_members" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "stacks_tenant_key" ON "stacks" USING btree ("tenant_id","key");--> statement-breakpoint
CREATE FUNCTION "micro_credential_versions_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.published_at IS NOT NULL THEN
    RAISE EXCEPTION 'micro-credential version % is published and cannot change', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "micro_credential_versions_immutable" BEFORE UPDATE ON "micro_credential_versions" FOR EACH ROW EXECUTE FUNCTION "micro_credential_versions_immutable"();

CREATE TABLE "issued_credentials" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"earner_user_id" uuid NOT NULL,
	"version_id" uuid,
	"stack_id" uuid,
	"award_id" uuid,
	"credential" jsonb NOT NULL,
	"status_list_id" uuid NOT NULL,
	"status_index" integer NOT NULL,
	"show_name" boolean DEFAULT false NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_until" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"revocation_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "issued_credentials_achievement" CHECK (("issued_credentials"."version_id" IS NULL) <> ("issued_credentials"."stack_id" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "issuer_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"key_number" integer NOT NULL,
	"public_key_multibase" text NOT NULL,
	"sealed_seed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "status_lists" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"list_number" integer NOT NULL,
	"status_purpose" text DEFAULT 'revocation' NOT NULL,
	"length" integer NOT NULL,
	"capacity" integer NOT NULL,
	"allocated" integer DEFAULT 0 NOT NULL,
	"signed_json" jsonb,
	"signed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "status_lists_allocated" CHECK ("status_lists"."allocated" <= "status_lists"."capacity" AND "status_lists"."capacity" <= "status_lists"."length")
);
--> statement-breakpoint
ALTER TABLE "issued_credentials" ADD CONSTRAINT "issued_credentials_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issued_credentials" ADD CONSTRAINT "issued_credentials_earner_user_id_users_id_fk" FOREIGN KEY ("earner_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issued_credentials" ADD CONSTRAINT "issued_credentials_version_id_micro_credential_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."micro_credential_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issued_credentials" ADD CONSTRAINT "issued_credentials_stack_id_stacks_id_fk" FOREIGN KEY ("stack_id") REFERENCES "public"."stacks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issued_credentials" ADD CONSTRAINT "issued_credentials_status_list_id_status_lists_id_fk" FOREIGN KEY ("status_list_id") REFERENCES "public"."status_lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuer_keys" ADD CONSTRAINT "issuer_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "status_lists" ADD CONSTRAINT "status_lists_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "issued_credentials_status_slot" ON "issued_credentials" USING btree ("tenant_id","status_list_id","status_index");--> statement-breakpoint
CREATE UNIQUE INDEX "issued_credentials_award" ON "issued_credentials" USING btree ("award_id");--> statement-breakpoint
CREATE INDEX "issued_credentials_earner" ON "issued_credentials" USING btree ("tenant_id","earner_user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "issuer_keys_tenant_number" ON "issuer_keys" USING btree ("tenant_id","key_number");--> statement-breakpoint
CREATE UNIQUE INDEX "status_lists_tenant_number" ON "status_lists" USING btree ("tenant_id","list_number");
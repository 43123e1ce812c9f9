CREATE TABLE "courses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"lti_context_id" text NOT NULL,
	"canvas_course_id" text,
	"title" text NOT NULL,
	"label" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "memberships" (
	"tenant_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"lti_roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_course_id_user_id_pk" PRIMARY KEY("course_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "role_grants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" text NOT NULL,
	"course_id" uuid,
	"granted_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"issuer" text NOT NULL,
	"client_id" text NOT NULL,
	"deployment_id" text NOT NULL,
	"platform_kid" text NOT NULL,
	"name" text NOT NULL,
	"canvas_base_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"lti_sub" text NOT NULL,
	"canvas_user_id" text,
	"name" text,
	"email" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lti_logins" (
	"state" text PRIMARY KEY NOT NULL,
	"nonce" text NOT NULL,
	"issuer" text NOT NULL,
	"client_id" text NOT NULL,
	"platform_kid" text NOT NULL,
	"login_hint" text NOT NULL,
	"message_hint" text,
	"deployment_hint" text,
	"target_link_uri" text NOT NULL,
	"storage_target" text,
	"storage_proof_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ltijs_accesstoken" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ltijs_contexttoken" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ltijs_idtoken" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ltijs_nonce" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ltijs_platform" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ltijs_platformstatus" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ltijs_privatekey" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ltijs_publickey" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ltijs_state" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"course_id" uuid,
	"lti_roles" text[] NOT NULL,
	"launch" jsonb NOT NULL,
	"csrf_secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "courses" ADD CONSTRAINT "courses_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_grants" ADD CONSTRAINT "role_grants_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_grants" ADD CONSTRAINT "role_grants_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_grants" ADD CONSTRAINT "role_grants_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_grants" ADD CONSTRAINT "role_grants_granted_by_users_id_fk" FOREIGN KEY ("granted_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "courses_tenant_context" ON "courses" USING btree ("tenant_id","lti_context_id");--> statement-breakpoint
CREATE INDEX "memberships_tenant_user" ON "memberships" USING btree ("tenant_id","user_id");--> statement-breakpoint
CREATE INDEX "role_grants_user" ON "role_grants" USING btree ("tenant_id","user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tenants_lti_key" ON "tenants" USING btree ("issuer","client_id","deployment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_tenant_sub" ON "users" USING btree ("tenant_id","lti_sub");--> statement-breakpoint
CREATE INDEX "users_tenant_canvas" ON "users" USING btree ("tenant_id","canvas_user_id");--> statement-breakpoint
CREATE INDEX "lti_logins_created" ON "lti_logins" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "ltijs_accesstoken_doc" ON "ltijs_accesstoken" USING gin ("doc" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "ltijs_accesstoken_exp" ON "ltijs_accesstoken" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "ltijs_accesstoken_u_platformurl_clientid_scopes" ON "ltijs_accesstoken" USING btree (("doc" ->> 'platformUrl'),("doc" ->> 'clientId'),("doc" ->> 'scopes'));--> statement-breakpoint
CREATE INDEX "ltijs_contexttoken_doc" ON "ltijs_contexttoken" USING gin ("doc" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "ltijs_contexttoken_exp" ON "ltijs_contexttoken" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "ltijs_idtoken_doc" ON "ltijs_idtoken" USING gin ("doc" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "ltijs_idtoken_exp" ON "ltijs_idtoken" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "ltijs_nonce_doc" ON "ltijs_nonce" USING gin ("doc" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "ltijs_nonce_exp" ON "ltijs_nonce" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "ltijs_nonce_u_nonce" ON "ltijs_nonce" USING btree (("doc" ->> 'nonce'));--> statement-breakpoint
CREATE INDEX "ltijs_platform_doc" ON "ltijs_platform" USING gin ("doc" jsonb_path_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "ltijs_platform_u_kid" ON "ltijs_platform" USING btree (("doc" ->> 'kid'));--> statement-breakpoint
CREATE UNIQUE INDEX "ltijs_platform_u_platformurl_clientid" ON "ltijs_platform" USING btree (("doc" ->> 'platformUrl'),("doc" ->> 'clientId'));--> statement-breakpoint
CREATE INDEX "ltijs_platformstatus_doc" ON "ltijs_platformstatus" USING gin ("doc" jsonb_path_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "ltijs_platformstatus_u_id" ON "ltijs_platformstatus" USING btree (("doc" ->> 'id'));--> statement-breakpoint
CREATE INDEX "ltijs_privatekey_doc" ON "ltijs_privatekey" USING gin ("doc" jsonb_path_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "ltijs_privatekey_u_kid" ON "ltijs_privatekey" USING btree (("doc" ->> 'kid'));--> statement-breakpoint
CREATE INDEX "ltijs_publickey_doc" ON "ltijs_publickey" USING gin ("doc" jsonb_path_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "ltijs_publickey_u_kid" ON "ltijs_publickey" USING btree (("doc" ->> 'kid'));--> statement-breakpoint
CREATE INDEX "ltijs_state_doc" ON "ltijs_state" USING gin ("doc" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "ltijs_state_exp" ON "ltijs_state" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "ltijs_state_u_state" ON "ltijs_state" USING btree (("doc" ->> 'state'));--> statement-breakpoint
CREATE INDEX "sessions_expires" ON "sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "sessions_user" ON "sessions" USING btree ("tenant_id","user_id");
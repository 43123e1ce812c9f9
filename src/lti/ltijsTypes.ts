/**
 * Hand-written types for the parts of ltijs 5.9.9 microcred uses (ltijs ships none; @types/ltijs is v4 and
 * wrong for v5). Read off node_modules/ltijs/dist: Provider/Provider.js, Utils/Platform.js, Provider/Services/*.
 */
import { createRequire } from 'node:module';
import type { Express, NextFunction, Request, Response } from 'express';

// ---------------------------------------------------------------------------------------------------------------
// Database plugin contract (what Provider, Platform, Auth, Keyset and the services call)

/** A stored ltijs document. */
export type LtijsDocument = Record<string, unknown>;
/** A Mongo-style equality filter on top-level fields; `undefined`/`null` match a missing or null field. */
export type LtijsQuery = Record<string, unknown>;

export interface LtiDatabasePlugin {
  setup(): Promise<true>;
  Close(): Promise<true>;
  Get(ENCRYPTIONKEY: string | false, collection: string, query?: LtijsQuery): Promise<LtijsDocument[] | false>;
  Insert(ENCRYPTIONKEY: string | false, collection: string, item: LtijsDocument, index?: LtijsDocument): Promise<true>;
  Replace(ENCRYPTIONKEY: string | false, collection: string, query: LtijsQuery | undefined, item: LtijsDocument, index?: LtijsDocument): Promise<true>;
  Modify(ENCRYPTIONKEY: string | false, collection: string, query: LtijsQuery, modification: LtijsDocument): Promise<true>;
  Delete(collection: string, query: LtijsQuery): Promise<true>;
  Encrypt(data: string, secret: string): Promise<{ iv: string; data: string }>;
  Decrypt(data: string, iv: string, secret: string): Promise<string>;
}

// ---------------------------------------------------------------------------------------------------------------
// Launch data: res.locals.token (and the `token` argument of onConnect / onDeepLinking)

export interface LtiContextClaim {
  id: string;
  label?: string;
  title?: string;
  type?: string[];
}

export interface LtiResourceLinkClaim {
  id: string;
  title?: string;
  description?: string;
}

export interface LtiAgsEndpointClaim {
  scope: string[];
  lineitems?: string;
  lineitem?: string;
}

export interface LtiNrpsClaim {
  context_memberships_url: string;
  service_versions: string[];
}

export interface LtiDeepLinkingSettings {
  deep_link_return_url: string;
  accept_types: string[];
  accept_presentation_document_targets: string[];
  accept_media_types?: string;
  /** Canvas sends a boolean; ltijs also treats the string 'false' as false. */
  accept_multiple?: boolean | 'true' | 'false';
  accept_lineitem?: boolean;
  auto_create?: boolean;
  title?: string;
  text?: string;
  data?: string;
}

export interface LtiLaunchPresentationClaim {
  document_target?: 'iframe' | 'window' | 'frame' | string;
  return_url?: string;
  locale?: string;
  height?: number;
  width?: number;
}

export interface LtiToolPlatformClaim {
  guid?: string;
  name?: string;
  version?: string;
  product_family_code?: string;
  contact_email?: string;
  description?: string;
  url?: string;
}

/** The `contexttoken` document, exposed as `token.platformContext` and `res.locals.context`. */
export interface LtiContextToken {
  /** ltijs's own key: encodeURIComponent(iss + clientId + deploymentId + courseId + '_' + resourceId + '_' + hash). */
  contextId: string;
  user: string;
  roles: string[];
  /** Request path of the launch (changed by `redirect(res, path, { newResource: true })`). */
  path: string;
  targetLinkUri: string;
  context?: LtiContextClaim;
  resource?: LtiResourceLinkClaim;
  /** Custom parameters; LTI says strings, but validate before use. */
  custom?: Record<string, unknown>;
  launchPresentation?: LtiLaunchPresentationClaim;
  messageType: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
  version: string;
  deepLinkingSettings?: LtiDeepLinkingSettings;
  lis?: Record<string, unknown>;
  endpoint?: LtiAgsEndpointClaim;
  namesRoles?: LtiNrpsClaim;
  /** ISO time of the last launch (absent in `ltiaas` mode on the launch request itself). */
  createdAt?: string;
}

/** `res.locals.token`: the `idtoken` document plus the context. */
export interface LtiIdToken {
  iss: string;
  /** The platform's `sub` for the user. */
  user: string;
  userInfo: { given_name?: string; family_name?: string; name?: string; email?: string };
  platformInfo?: LtiToolPlatformClaim;
  clientId: string;
  /** kid of the tool key pair for this platform registration (= ltijs platform id). */
  platformId: string;
  deploymentId: string;
  createdAt?: string;
  platformContext: LtiContextToken;
}

/**
 * What the services read from an idtoken (iss, clientId, user and a few context claims). A stored launch or a
 * synthetic token for background work (e.g. grading after the learner left) satisfies it.
 */
export interface LtiServiceToken {
  iss: string;
  clientId: string;
  user?: string;
  deploymentId?: string;
  platformContext: Partial<Pick<LtiContextToken, 'endpoint' | 'resource' | 'namesRoles' | 'deepLinkingSettings'>>;
}

// ---------------------------------------------------------------------------------------------------------------
// Platforms

export interface LtiAuthConfig {
  method: 'RSA_KEY' | 'JWK_KEY' | 'JWK_SET';
  /** PEM public key, JWK as a JSON string, or the JWKS URL, per `method`. */
  key: string;
}

export interface LtiPlatformRegistration {
  url: string;
  name: string;
  clientId: string;
  authenticationEndpoint: string;
  accesstokenEndpoint: string;
  /** `aud` of the client assertion; defaults to `accesstokenEndpoint`. */
  authorizationServer?: string;
  authConfig: LtiAuthConfig;
}

export interface LtiAccessToken {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

export interface LtiPlatformJSON {
  id: string;
  url: string;
  clientId: string;
  name: string;
  authenticationEndpoint: string;
  accesstokenEndpoint: string;
  authorizationServer: string;
  authConfig: LtiAuthConfig;
  publicKey: string;
  active: boolean;
}

/** Utils/Platform.js. Getters take no argument; passing one sets the value (a `Modify` on the platform row). */
export interface LtiPlatform {
  platformUrl(): Promise<string>;
  platformClientId(): Promise<string>;
  platformName(name?: string): Promise<string>;
  platformId(): Promise<string>;
  platformKid(): Promise<string>;
  /** No platformStatus row means active. */
  platformActive(active?: boolean): Promise<boolean>;
  /** SPKI PEM of the tool's public key for this platform. */
  platformPublicKey(): Promise<string>;
  /** PKCS#1 PEM of the tool's private key for this platform. */
  platformPrivateKey(): Promise<string>;
  platformAuthConfig(method?: LtiAuthConfig['method'], key?: string): Promise<LtiAuthConfig>;
  platformAuthenticationEndpoint(endpoint?: string): Promise<string>;
  /** Deprecated alias of platformAuthenticationEndpoint (ltijs itself still uses it). */
  platformAuthEndpoint(endpoint?: string): Promise<string>;
  platformAccessTokenEndpoint(endpoint?: string): Promise<string>;
  /** Falls back to the access token endpoint. */
  platformAuthorizationServer(server?: string): Promise<string>;
  /** Cached client-credentials token for `scopes` (space-separated), fetched from the platform when missing/stale. */
  platformAccessToken(scopes: string): Promise<LtiAccessToken>;
  platformJSON(): Promise<LtiPlatformJSON>;
  delete(): Promise<true>;
}

export interface LtiPlatformUpdate {
  url?: string;
  clientId?: string;
  name?: string;
  authenticationEndpoint?: string;
  accesstokenEndpoint?: string;
  authorizationServer?: string;
  authConfig?: Partial<LtiAuthConfig>;
}

// ---------------------------------------------------------------------------------------------------------------
// Services

/** Canvas and other platforms add extension claims keyed by URL. */
type Extensions = { [claim: `https://${string}`]: unknown };

export type LtiLineItem = {
  id: string;
  scoreMaximum: number;
  label: string;
  resourceId?: string;
  resourceLinkId?: string;
  tag?: string;
  startDateTime?: string;
  endDateTime?: string;
  gradesReleased?: boolean;
} & Extensions;

export type LtiLineItemInput = Omit<LtiLineItem, 'id'>;

export type LtiScore = {
  /** Defaults to `idtoken.user`. */
  userId?: string;
  scoreGiven?: number;
  /** Fetched from the line item when `scoreGiven` is set and this is not. */
  scoreMaximum?: number;
  comment?: string;
  activityProgress: 'Initialized' | 'Started' | 'InProgress' | 'Submitted' | 'Completed';
  gradingProgress: 'FullyGraded' | 'Pending' | 'PendingManual' | 'Failed' | 'NotReady';
  /** Set by ltijs to now. */
  timestamp?: string;
  submission?: { startedAt?: string; submittedAt?: string };
} & Extensions;

export interface LtiResult {
  id: string;
  scoreOf: string;
  userId: string;
  resultScore?: number;
  resultMaximum?: number;
  comment?: string;
  timestamp?: string;
}

export interface LtiPageLinks {
  next?: string;
  prev?: string;
  first?: string;
  last?: string;
}

export interface LtiGradeService {
  getLineItems(
    idtoken: LtiServiceToken,
    options?: { resourceLinkId?: boolean; resourceId?: string; tag?: string; limit?: number; id?: string; label?: string; url?: string },
    accessToken?: LtiAccessToken,
  ): Promise<{ lineItems: LtiLineItem[] } & LtiPageLinks>;
  createLineItem(
    idtoken: LtiServiceToken,
    lineItem: LtiLineItemInput,
    options?: { resourceLinkId?: boolean },
    accessToken?: LtiAccessToken,
  ): Promise<LtiLineItem>;
  /** `lineItemId` is the line item URL. */
  getLineItemById(idtoken: LtiServiceToken, lineItemId: string, accessToken?: LtiAccessToken): Promise<LtiLineItem>;
  updateLineItemById(idtoken: LtiServiceToken, lineItemId: string, lineItem: Partial<LtiLineItemInput>): Promise<LtiLineItem>;
  deleteLineItemById(idtoken: LtiServiceToken, lineItemId: string): Promise<true>;
  /** Mutates and returns `score` (userId, timestamp, maybe scoreMaximum filled in). */
  submitScore(idtoken: LtiServiceToken, lineItemId: string, score: LtiScore): Promise<LtiScore>;
  getScores(
    idtoken: LtiServiceToken,
    lineItemId: string,
    options?: { userId?: string; limit?: number; url?: string },
  ): Promise<{ scores: LtiResult[] } & LtiPageLinks>;
}

export type LtiMember = {
  user_id: string;
  roles: string[];
  status?: 'Active' | 'Inactive' | 'Deleted';
  name?: string;
  given_name?: string;
  family_name?: string;
  middle_name?: string;
  email?: string;
  picture?: string;
  lis_person_sourcedid?: string;
  lti11_legacy_user_id?: string;
  message?: Record<string, unknown>[];
} & Extensions;

export interface LtiMembershipContainer {
  id: string;
  context: { id: string; label?: string; title?: string };
  members: LtiMember[];
  /** Set when more pages exist than `pages` allowed. */
  next?: string;
  differences?: string;
}

export interface LtiNamesAndRolesService {
  /** `pages` defaults to 1; `false` follows every `rel="next"` link. */
  getMembers(
    idtoken: LtiServiceToken,
    options?: { role?: string; limit?: number; pages?: number | false; url?: string; resourceLinkId?: boolean },
  ): Promise<LtiMembershipContainer>;
}

export type LtiContentItem = {
  type: 'ltiResourceLink' | 'link' | 'file' | 'html' | 'image' | (string & {});
  title?: string;
  text?: string;
  url?: string;
  custom?: Record<string, string>;
  lineItem?: { scoreMaximum: number; label?: string; resourceId?: string; tag?: string; gradesReleased?: boolean };
  available?: { startDateTime?: string; endDateTime?: string };
  submission?: { startDateTime?: string; endDateTime?: string };
  icon?: { url: string; width?: number; height?: number };
  thumbnail?: { url: string; width?: number; height?: number };
  iframe?: { src?: string; width?: number; height?: number };
  window?: { targetName?: string; width?: number; height?: number; windowFeatures?: string };
} & Extensions;

export interface LtiDeepLinkingOptions {
  message?: string;
  /** Note: ltijs 5.9.9 writes this under a claim name with a trailing space, so platforms ignore it. */
  errMessage?: string;
  log?: string;
  errLog?: string;
}

export interface LtiDeepLinkingService {
  /** Signed LtiDeepLinkingResponse JWT (RS256, 60 s); items filtered to accept_types, one unless accept_multiple. */
  createDeepLinkingMessage(idtoken: LtiServiceToken, contentItems: LtiContentItem | LtiContentItem[], options?: LtiDeepLinkingOptions): Promise<string>;
  /** HTML of a self-submitting form posting the message to deep_link_return_url. */
  createDeepLinkingForm(idtoken: LtiServiceToken, contentItems: LtiContentItem | LtiContentItem[], options?: LtiDeepLinkingOptions): Promise<string>;
}

export interface LtiDynamicRegistrationService {
  /** Returns the HTML that closes the registration window; throws PLATFORM_ALREADY_REGISTERED. Arrays in overrides replace defaults. */
  register(openidConfiguration: string, registrationToken?: string, overrides?: Record<string, unknown>): Promise<string>;
}

// ---------------------------------------------------------------------------------------------------------------
// Provider

export interface LtiSetupOptions {
  appRoute?: string;
  loginRoute?: string;
  keysetRoute?: string;
  dynRegRoute?: string;
  https?: boolean;
  ssl?: { key: string; cert: string };
  staticPath?: string;
  /** Default true, which reflects any origin with credentials. */
  cors?: boolean;
  serverAddon?: (app: Express) => void;
  cookies?: { secure?: boolean; sameSite?: 'None' | 'Lax' | 'Strict' | ''; domain?: string };
  devMode?: boolean;
  ltiaas?: boolean;
  /** Max id_token age in seconds (default 10); false disables the check. */
  tokenMaxAge?: number | false;
  dynReg?: {
    url: string;
    name: string;
    logo?: string;
    description?: string;
    redirectUris?: string[];
    customParameters?: Record<string, string>;
    autoActivate?: boolean;
    useDeepLinking?: boolean;
  };
}

export type LtiLaunchCallback = (token: LtiIdToken, req: Request, res: Response, next: NextFunction) => unknown;
export type LtiRequestCallback = (req: Request, res: Response, next: NextFunction) => unknown;
export type LtiWhitelistRoute = string | RegExp | { route: string | RegExp; method: string };

export interface LtiProvider {
  setup(encryptionKey: string, database: { plugin: LtiDatabasePlugin }, options?: LtiSetupOptions): LtiProvider;
  /** Calls `Database.setup()`; on failure ltijs logs and calls process.exit() — run the plugin's setup first. Adds a SIGINT listener. */
  deploy(options?: { port?: number; silent?: boolean; serverless?: boolean }): Promise<true>;
  /** Stops the server (if listening) and calls `Database.Close()`. */
  close(options?: { silent?: boolean }): Promise<true>;
  onConnect(callback: LtiLaunchCallback): true;
  onDeepLinking(callback: LtiLaunchCallback): true;
  onDynamicRegistration(callback: LtiRequestCallback): true;
  /** res.locals.err holds the reason. */
  onInvalidToken(callback: LtiRequestCallback): true;
  onSessionTimeout(callback: LtiRequestCallback): true;
  onUnregisteredPlatform(callback: (req: Request, res: Response) => unknown): true;
  onInactivePlatform(callback: (req: Request, res: Response) => unknown): true;
  appRoute(): string;
  loginRoute(): string;
  keysetRoute(): string;
  dynRegRoute(): string;
  whitelist(...routes: LtiWhitelistRoute[]): { route: string | RegExp; method: string }[];
  /** Creates (4096-bit RSA key pair, ~1 s, blocks the event loop) or updates a registration. */
  registerPlatform(platform: LtiPlatformRegistration): Promise<LtiPlatform>;
  getPlatform(url: string, clientId: string): Promise<LtiPlatform | false>;
  getPlatform(url: string): Promise<LtiPlatform[] | false>;
  getPlatformById(platformId: string): Promise<LtiPlatform | false>;
  updatePlatformById(platformId: string, platformInfo: LtiPlatformUpdate): Promise<LtiPlatform | false>;
  deletePlatform(url: string, clientId: string): Promise<true>;
  deletePlatformById(platformId: string): Promise<true>;
  getAllPlatforms(): Promise<LtiPlatform[]>;
  redirect(res: Response, path: string, options?: { newResource?: boolean; query?: Record<string, string> }): Promise<void>;
  /** ltijs's own Express 4 app: async handlers mounted directly on it do not forward rejections. */
  readonly app: Express;
  readonly Database: LtiDatabasePlugin;
  readonly Grade: LtiGradeService;
  readonly DeepLinking: LtiDeepLinkingService;
  readonly NamesAndRoles: LtiNamesAndRolesService;
  /** Present only when `dynReg` was given to setup(). */
  readonly DynamicRegistration?: LtiDynamicRegistrationService;
}

/**
 * A fresh, independent Provider (own Express app, plugin and routes). `require('ltijs').Provider` is a module-wide
 * singleton that can be set up once per process; its class is not exported, so we reach it through the prototype.
 */
export function createLtiProvider(): LtiProvider {
  const load = createRequire(__filename);
  const { Provider } = load('ltijs') as { Provider: object };
  const ProviderClass = (Object.getPrototypeOf(Provider) as { constructor: new () => LtiProvider }).constructor;
  return new ProviderClass();
}

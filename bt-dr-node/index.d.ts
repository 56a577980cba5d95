// Type definitions of bt-dr for Node. Every result is a plain, JSON-serializable object with
// camelCase keys; string enums keep the core's spelling. Timestamps are RFC 3339 strings, dates
// YYYY-MM-DD. (The napi-generated native binding is in native/binding.d.ts.)
//
// Two parts:
// - types.d.ts: GENERATED from the core's schema (bt-dr-node/scripts/gen_types.py, from
//   schema/bt-dr.schema.json; `make generate`): every result and option type of the core,
//   re-exported below. Never declare such a type here.
// - this file, hand-written: the functions and classes, and only the types that are Node's
//   own: errors and codes, client options, progress events, the options objects that bundle
//   several core arguments, the millisecond forms of the failover and backup-set options, and
//   a few Node names for core types (ProductVersion, BackupName, VaultKeyRecord, VerifyReport:
//   the core's views of those; Operation with its Node name; ErrorReport with typed codes).

/// <reference types="node" />

import type {
  BackupSetOptionsInput,
  FailoverOptionsInput,
  TrafficRedirect,
  ApplianceInfo,
  ApplianceKind,
  ApplianceRecord,
  AtlasCheckOptions,
  AtlasReport,
  AuditOptions as CoreAuditOptions,
  AuditReportView,
  ArchiveEntry,
  ArchiveKind,
  AuditReport,
  ApiInfo,
  BackupDownload,
  BackupNameView,
  BackupSetReport,
  BundleCheckOptions,
  BundleReport,
  BundleReportView,
  ConnectedClient,
  DownloadedFile,
  ErrorKind,
  ErrorReport as CoreErrorReport,
  FailoverMode,
  FailoverPlan,
  FailoverTimeline,
  Health,
  JobReport,
  Operation as CoreOperation,
  PairReport,
  Probe,
  Product,
  ReportKind,
  RestoreCheck,
  RetentionPlan,
  RetentionPolicy,
  RoleChange,
  Session,
  SetSummary,
  Site,
  Thresholds,
  TimeWindow,
  UpgradeTable,
  VaultKeyRecordView,
  VerifyReportView,
  VersionView,
  NsbCoverage,
  ApplianceState,
  Finding,
  SiteCleanReport,
  SiteLive,
} from './types'

export * from './types'

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Stable error codes, one per core error kind. */
export type ErrorCodeValue =
  | 'BT_DR_INVALID_INPUT'
  | 'BT_DR_PARSE'
  | 'BT_DR_IO'
  | 'BT_DR_CERTIFICATE'
  | 'BT_DR_WRONG_PASSPHRASE'
  | 'BT_DR_VERSION_INCOMPATIBLE'
  | 'BT_DR_INTEGRITY'
  | 'BT_DR_AUTH'
  | 'BT_DR_PERMISSION_DENIED'
  | 'BT_DR_RATE_LIMITED'
  | 'BT_DR_API'
  | 'BT_DR_TLS'
  | 'BT_DR_NETWORK'
  | 'BT_DR_TIMEOUT'
  | 'BT_DR_CANCELLED'
  | 'BT_DR_REFUSED'
  | 'BT_DR_NOT_FOUND'
  | 'BT_DR_INTERNAL'

/** `ErrorCode.AUTH === 'BT_DR_AUTH'`, one entry per kind (upper-cased kind → code). */
export declare const ErrorCode: Readonly<{
  INVALID_INPUT: 'BT_DR_INVALID_INPUT'
  PARSE: 'BT_DR_PARSE'
  IO: 'BT_DR_IO'
  CERTIFICATE: 'BT_DR_CERTIFICATE'
  WRONG_PASSPHRASE: 'BT_DR_WRONG_PASSPHRASE'
  VERSION_INCOMPATIBLE: 'BT_DR_VERSION_INCOMPATIBLE'
  INTEGRITY: 'BT_DR_INTEGRITY'
  AUTH: 'BT_DR_AUTH'
  PERMISSION_DENIED: 'BT_DR_PERMISSION_DENIED'
  RATE_LIMITED: 'BT_DR_RATE_LIMITED'
  API: 'BT_DR_API'
  TLS: 'BT_DR_TLS'
  NETWORK: 'BT_DR_NETWORK'
  TIMEOUT: 'BT_DR_TIMEOUT'
  CANCELLED: 'BT_DR_CANCELLED'
  REFUSED: 'BT_DR_REFUSED'
  NOT_FOUND: 'BT_DR_NOT_FOUND'
  /** A defect inside bt-dr (a caught Rust panic); never caused by input. Please report it. */
  INTERNAL: 'BT_DR_INTERNAL'
}>

/**
 * Every failure of bt-dr is an `Error` with `name === 'BtDrError'`, a stable `code`, the
 * snake_case `kind`, the core's `details` object, and the structured details of its kind also
 * as camelCase properties. Secrets never appear in `message` or any property. A Rust panic inside bt-dr never aborts the process: it
 * is thrown (or rejects the promise) as a `BtDrError` with code `BT_DR_INTERNAL`.
 */
export interface BtDrError extends Error {
  name: 'BtDrError'
  code: ErrorCodeValue
  kind: ErrorKind
  /**
   * The core's structured details of the error as they are in Python and C (snake_case keys:
   * `kind`, `message` and the fields of its kind, e.g. `http_status`, `retry_after_ms`).
   */
  details: Record<string, unknown>
  /** `BT_DR_INVALID_INPUT`, `BT_DR_PARSE`: the offending field. */
  field?: string | null
  /** `BT_DR_PARSE`: what was being parsed, and where. */
  what?: string
  file?: string | null
  line?: number | null
  column?: number | null
  /** `BT_DR_IO`: the file or folder. */
  path?: string
  /** `BT_DR_VERSION_INCOMPATIBLE`. */
  backupVersion?: string
  siteVersion?: string
  /** `BT_DR_INTEGRITY`: the file or transfer that failed the check. */
  subject?: string
  /** `BT_DR_PERMISSION_DENIED`: the operation and the API permission it needs. */
  operation?: string
  permission?: string
  /** `BT_DR_RATE_LIMITED`: the appliance's Retry-After, when it sent one. */
  retryAfterMs?: number | null
  /** `BT_DR_API`: HTTP status (when there was one) and the appliance's own message. */
  httpStatus?: number | null
  applianceMessage?: string
}

/** Whether `e` is an error raised by bt-dr. */
export declare function isBtDrError(e: unknown): e is BtDrError

// ---------------------------------------------------------------------------------------------
// Meta
// ---------------------------------------------------------------------------------------------

/** One public operation of bt-dr-core (`name` is its snake_case name) and its Node name. */
export interface Operation extends CoreOperation {
  /** camelCase Node name, e.g. `checkRestore` (a module function or a `Client` method). */
  nodeName: string
}

/** The core's list of public operations. */
export declare function operations(): Operation[]
/** Every core error kind with its code. */
export declare function errorKinds(): Array<{ kind: ErrorKind; code: ErrorCodeValue }>
/** Version of bt-dr-core inside this binding. */
export declare function coreVersion(): string

// ---------------------------------------------------------------------------------------------
// Shared enums and small types
// ---------------------------------------------------------------------------------------------

/** `toml`, `json` or `yaml` (`yml` and any case are accepted too). Text given without a format is TOML, the core's default. */
export type DocumentFormat = 'toml' | 'json' | 'yaml'
/** A date as `YYYY-MM-DD`, or a `Date` (its UTC day). */
export type DateLike = string | Date

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

/** A version taken apart: the core's `VersionView`. */
export type ProductVersion = VersionView

/** `parse_version`. Throws `BT_DR_PARSE`. */
export declare function parseVersion(text: string): ProductVersion

// ---------------------------------------------------------------------------------------------
// Sites and inventory
// ---------------------------------------------------------------------------------------------

/** The core's `Inventory`, with the thresholds partial on input (Node's own form). */
export interface Inventory {
  sites: Site[]
  /** Always present in a loaded inventory (defaults filled in); partial or absent on input. */
  thresholds?: Partial<Thresholds>
}

/** `load_inventory` from text (TOML when no format is given). Throws `BT_DR_PARSE` / `BT_DR_INVALID_INPUT`. */
export declare function parseInventory(text: string, format?: DocumentFormat | null): Inventory
/** `load_inventory`: a `.toml`, `.json`, `.yaml` or `.yml` file. */
export declare function loadInventory(path: string): Promise<Inventory>

// ---------------------------------------------------------------------------------------------
// Backups
// ---------------------------------------------------------------------------------------------

/** A parsed default NSB file name `bomgar-<version>-<site>-<date>-<id>.nsb` (the core's `BackupName::view`). */
export type BackupName = BackupNameView

export interface BackupNameParts {
  version: string
  site: string
  date: DateLike
  /** `HH:MM:SS`. */
  time?: string | null
  id: string
}

/** `parse_backup_name`. Throws `BT_DR_PARSE`. */
export declare function parseBackupName(name: string): BackupName
/** `format_backup_name`. Throws `BT_DR_INVALID_INPUT` when the parts would not parse back. */
export declare function formatBackupName(parts: BackupNameParts): string

export interface CheckRestoreOptions {
  /** The supported-upgrade table (default: empty, so older backups are `untested`). */
  table?: UpgradeTable | null
  backupProduct?: Product | null
  siteProduct?: Product | null
}

/** `check_restore`: whether a backup of `backupVersion` restores onto a site at `siteVersion`. */
export declare function checkRestore(
  backupVersion: string,
  siteVersion: string,
  options?: CheckRestoreOptions | null,
): RestoreCheck
export interface CheckRestoreOntoOptions {
  /** The supported-upgrade table (default: empty, so older backups are `untested`). */
  table?: UpgradeTable | null
  /** The product the backup was taken from (default: not checked). */
  backupProduct?: Product | null
}

/**
 * `check_restore_onto`: `checkRestore` for a restore onto an inventory `site` (its version and
 * product). For a failover pair the verdict gains a warning and the guide's `steps`; a refused
 * restore gets none. Throws `BT_DR_PARSE` / `BT_DR_INVALID_INPUT`.
 */
export declare function checkRestoreOnto(
  site: Site,
  backupVersion: string,
  options?: CheckRestoreOntoOptions | null,
): RestoreCheck
/** `load_upgrade_table` from text (`toml`, `json` or `yaml`; TOML when not given). */
export declare function parseUpgradeTable(text: string, format?: DocumentFormat | null): UpgradeTable
/** `load_upgrade_table`. */
export declare function loadUpgradeTable(path: string): Promise<UpgradeTable>

/** `nsb_coverage`: what an NSB holds and what must be saved another way. */
export declare function nsbCoverage(product: Product, options?: { includeLoggedHistory?: boolean }): NsbCoverage

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/**
 * `check_certificate_bundle`: opens a PKCS#12 file (path or bytes) and checks it.
 * Rejects with `BT_DR_WRONG_PASSPHRASE`, `BT_DR_CERTIFICATE` or `BT_DR_IO`.
 */
export declare function checkCertificateBundle(
  source: string | Buffer,
  passphrase: string,
  options?: BundleCheckOptions | null,
): Promise<BundleReportView>

/** `check_certificate_pair`: whether both appliances of a pair carry the identical certificate. */
export declare function checkCertificatePair(primary: BundleReport, backup: BundleReport): PairReport

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/** `appliance_record`: load, validate and save `/appliance` settings records. */
export declare const applianceRecord: Readonly<{
  /** Parses and validates text (`toml`, `json` or `yaml`; TOML when not given). */
  parse(text: string, format?: DocumentFormat | null): ApplianceRecord
  /** Loads and validates a record file. */
  load(path: string): Promise<ApplianceRecord>
  /** Throws `BT_DR_INVALID_INPUT` (with `field`) when the record misses what a recovery needs. */
  validate(record: ApplianceRecord): void
  /** The identifying file name (hostname, versions, serial, system time). */
  fileName(record: ApplianceRecord): string
  /** Validates and writes the record as JSON into `dir`; resolves to the file's path. */
  save(record: ApplianceRecord, dir: string): Promise<string>
}>

/** A Vault key record with the core's findings about it (the core's `VaultKeyRecord::view`). */
export type VaultKeyRecord = VaultKeyRecordView

/** `vault_key_record`: hashes a downloaded Vault key file and records it (never its content). */
export declare function vaultKeyRecord(
  path: string,
  site: string,
  date: DateLike,
  passwordProtected: boolean,
): Promise<VaultKeyRecord>

// ---------------------------------------------------------------------------------------------
// API client
// ---------------------------------------------------------------------------------------------

export interface RetryOptions {
  maxAttempts?: number
  initialBackoffMs?: number
  maxBackoffMs?: number
  maxTotalMs?: number
  /** "Too many requests" answers waited out before `BT_DR_RATE_LIMITED`. */
  maxRateLimitWaits?: number
  maxRetryAfterMs?: number
}

export interface ClientOptions {
  /** `https://host[:port]`. */
  baseUrl: string
  clientId: string
  /** Handed to the core; never readable back from the client. */
  clientSecret: string
  /** Extra trusted CA certificates (PEM), added to the system roots. */
  caPem?: string | Buffer
  /** Trust only `caPem`. */
  onlyExtraCa?: boolean
  /** SHA-256 of the server certificate (hex, colons allowed). */
  pinSha256?: string
  /** DANGEROUS: accept any server certificate (a pin still applies). */
  dangerAcceptInvalidCerts?: boolean
  /** DANGEROUS: allow `http://` (credentials travel in clear). */
  dangerAllowHttp?: boolean
  connectTimeoutMs?: number
  readTimeoutMs?: number
  requestTimeoutMs?: number
  /** Default 20 (the appliance's own limit per API account). */
  rateLimitPerSecond?: number
  retry?: RetryOptions
  /** Site name used in backup file names when the appliance sends none. */
  siteName?: string
  /** Default `rs`. */
  product?: Product
}

export interface ProgressEvent {
  /** Bytes received so far. */
  done: number
  /** Size the appliance announced, if any. */
  total: number | null
}

export interface TransferOptions {
  /** Cancels the transfer; the promise rejects with `BT_DR_CANCELLED` and no partial file stays. */
  signal?: AbortSignal
  /** Called as bytes arrive (at most every 100 ms). If it throws, the transfer is cancelled and the promise rejects with that error. */
  onProgress?: (event: ProgressEvent) => void
}

export interface BackupOptions extends TransferOptions {
  /** The site backup password, when backups are password protected. */
  password?: string
}

/** A client for one appliance's web APIs (OAuth, command, backup, reporting). */
export declare class Client {
  /** Throws `BT_DR_INVALID_INPUT` or `BT_DR_TLS` (e.g. a plain `http://` URL). */
  constructor(options: ClientOptions)
  readonly baseUrl: string
  readonly host: string
  readonly product: Product
  /**
   * SHA-256 (lowercase hex) of the leaf certificate the appliance presented in this client's
   * most recent TLS handshake, trusted or not; `null` before the first connection.
   */
  readonly servedLeafSha256: string | null
  /** `check_health`. */
  checkHealth(): Promise<Health>
  /** `probe_health`: unauthenticated `/check_health`. */
  probeHealth(): Promise<Probe>
  /** `get_api_info`. */
  getApiInfo(): Promise<ApiInfo>
  /** `get_appliances`. */
  getAppliances(): Promise<ApplianceInfo[]>
  /** `get_connected_clients`. */
  getConnectedClients(): Promise<ConnectedClient[]>
  /** `set_failover_role`. Never retried once the request may have reached the appliance. */
  setFailoverRole(
    role: 'primary' | 'backup',
    options?: { dataSyncFirst?: boolean; force?: boolean },
  ): Promise<RoleChange>
  /** `download_backup`: streams the NSB into `dir` (temp file, SHA-256, rename) and writes a sidecar. */
  downloadBackup(dir: string, options?: BackupOptions): Promise<BackupDownload>
  /** `list_sessions`. */
  listSessions(window: TimeWindow): Promise<Session[]>
  /** `get_session`. */
  getSession(lsid: string): Promise<Session>
  /** `download_recording`: streams a recording into `dir` as `<lsid>.<ext>`. */
  downloadRecording(lsid: string, dir: string, options?: TransferOptions): Promise<DownloadedFile>
  /**
   * `download_report`: saves one piece of Reporting API data into `dir` under a name bt-dr
   * chooses: a recording of any kind or a session report for `{ type: 'lsid', lsid }`, exit
   * surveys for a time window. Rejects with `BT_DR_INVALID_INPUT` for a kind the product does
   * not have (or the wrong window form), `BT_DR_NOT_FOUND` for a session without that data.
   */
  downloadReport(kind: ReportKind, window: TimeWindow, dir: string, options?: TransferOptions): Promise<DownloadedFile>
  /** `list_archives`: the archives of one day. */
  listArchives(date: DateLike): Promise<ArchiveEntry[]>
  /** `download_archive`: one archive, kept gzip-compressed. */
  downloadArchive(
    kind: ArchiveKind,
    date: DateLike,
    index: number,
    dir: string,
    options?: TransferOptions,
  ): Promise<DownloadedFile>
}

/** The native cancellation flag behind `AbortSignal` support (rarely needed directly). */
export declare class CancelToken {
  constructor()
  cancel(): void
  readonly isCancelled: boolean
}

// ---------------------------------------------------------------------------------------------
// Backup sets and retention
// ---------------------------------------------------------------------------------------------

/**
 * Options of a backup set. Every key except `signal`, `onProgress` and `otherAppliances` goes to
 * the core's one options parser (the core's `BackupSetOptionsInput`, generated into
 * `types.d.ts`): an unknown key rejects with `BT_DR_INVALID_INPUT`.
 */
export interface BackupSetOptions extends TransferOptions, Omit<BackupSetOptionsInput, 'thresholds'> {
  /** Expiry horizon and RSA minimum of the bundle check, as in an inventory's `thresholds`. */
  thresholds?: Partial<Thresholds> | null
  /**
   * Clients of the site's other appliances (normally a failover pair's backup) to take an NSB
   * from too: failover settings are not part of the data sync. Their NSBs go to
   * `appliances/<host>/` in the set and `manifest.applianceNsbs` says which is which; a failure
   * makes the set partial.
   */
  otherAppliances?: Client[]
}

/**
 * A typed error as data (the core's `ErrorReport`): stable `kind` and `code`, the redacted
 * `message`, and `details` (the error's fields, camelCased).
 */
export interface ErrorReport extends CoreErrorReport {
  kind: ErrorKind
  code: ErrorCodeValue
  details: Record<string, unknown>
}

/**
 * @deprecated A failure reported as data is an {@link ErrorReport} (its details are under
 * `details`); this name stays for existing type imports.
 */
export type ErrorInfo = ErrorReport

export interface JobProgressEvent extends ProgressEvent {
  site: string
}

export interface BackupJob {
  site: Site
  /** Client of the appliance to back up from (normally the primary). */
  client: Client
  options?: Omit<BackupSetOptions, 'signal' | 'onProgress'>
}

/** A verification with the core's verdict `ok` (the core's `VerifyReport::view`). */
export type VerifyReport = VerifyReportView

/**
 * `run_backup_set`: takes one backup set of `site` through `client` into the store folder
 * `store`. Aborting removes everything of the unfinished set.
 */
export declare function runBackupSet(
  store: string,
  site: Site,
  client: Client,
  options?: BackupSetOptions,
): Promise<BackupSetReport>

/**
 * `run_backup_job`: backs up many sites concurrently (`concurrency` defaults to the core's
 * `DEFAULT_JOB_CONCURRENCY`, 4); a failing site is reported in its outcome and does not stop
 * the others.
 */
export declare function runBackupJob(
  store: string,
  jobs: BackupJob[],
  options?: {
    concurrency?: number
    signal?: AbortSignal
    onProgress?: (event: JobProgressEvent) => void
  },
): Promise<JobReport>

/** `verify_backup_set`: re-hashes a set folder against its manifest. */
export declare function verifyBackupSet(path: string): Promise<VerifyReport>
/** `list_backup_sets`: the sets of a site, newest first. */
export declare function listBackupSets(store: string, site: string): Promise<SetSummary[]>
/** `plan_retention`: what a policy keeps and removes (the newest verified set is always kept). */
export declare function planRetention(store: string, site: string, policy: RetentionPolicy): Promise<RetentionPlan>
/** `apply_retention`: removes what the plan marks; resolves to the removed ids. Rejects with `BT_DR_REFUSED` rather than remove the newest verified set. */
export declare function applyRetention(store: string, plan: RetentionPlan): Promise<string[]>

// ---------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------

/** The core's `AuditOptions` and the audit's other inputs, in one object (Node's own form). */
export interface AuditOptions extends CoreAuditOptions {
  /** Backup store folder (backup, certificate, record and key rules are skipped without it). */
  store?: string | null
  /** Live state per site, from `collectLive` (live rules are skipped for sites without it). */
  live?: SiteLive[]
  upgradeTable?: UpgradeTable | null
}

/** `audit`: the readiness audit of the fleet. */
export declare function audit(inventory: Inventory, options?: AuditOptions | null): Promise<AuditReportView>
/** The core's Markdown rendering of an audit report (`audit`'s result as it is: `worst` is ignored). */
export declare function auditMarkdown(report: AuditReport | AuditReportView): string
/** Live state of a site's appliances (health, served certificate, pair view), for `audit`. */
export declare function collectLive(
  site: string,
  appliances: Array<{ hostname: string; client: Client }>,
): Promise<SiteLive>

/**
 * `check_atlas_cluster`: checks an Atlas cluster after a change — membership as the primary
 * lists it, `check_health` of every node, connected clients sampled twice per node. Give a
 * client for every node. Rejects with `BT_DR_INVALID_INPUT` when the site has no Atlas cluster,
 * a node has no client, or a hostname is not the site's.
 */
export declare function checkAtlasCluster(
  site: Site,
  appliances: Array<{ hostname: string; client: Client }>,
  options?: AtlasCheckOptions | null,
): Promise<AtlasReport>
/**
 * Health of many appliances at once, in input order (`concurrency` defaults to the core's
 * `DEFAULT_SWEEP_CONCURRENCY`, 8).
 */
export declare function healthSweep(
  clients: Client[],
  options?: { concurrency?: number },
): Promise<Array<{ health: Health | null; error: ErrorReport | null }>>

// ---------------------------------------------------------------------------------------------
// Runbook and failover
// ---------------------------------------------------------------------------------------------

/** `render_runbook`: the site's recovery runbook in Markdown. */
export declare function renderRunbook(
  site: Site,
  options?: { store?: string | null; upgradeTable?: UpgradeTable | null } | null,
): Promise<string>

/** The two appliances of a failover pair, in any order. */
export type PairAppliances = [
  { hostname: string; client: Client },
  { hostname: string; client: Client },
]

/**
 * Options of planning and execution, read by the core's one parser: an unknown key rejects
 * with `BT_DR_INVALID_INPUT`. Times are milliseconds; 0 or absent keeps the default. The fields
 * are the core's `FailoverOptionsInput` (generated into `types.d.ts`); `redirect` is the DNS/NAT
 * swing hook, a program run without a shell with `BT_DR_SITE`, `BT_DR_FQDN`, `BT_DR_FROM`,
 * `BT_DR_TO`, `BT_DR_TO_IP`, `BT_DR_ROUTING`, `BT_DR_MODE` and `BT_DR_SITE_URL` in its environment.
 */
export interface FailoverOptions extends FailoverOptionsInput {}

/** Options of `planFailover` (the same as execution's: they shape the plan's steps). */
export type PlanFailoverOptions = FailoverOptions
/** Options of `executeFailover`. */
export type ExecuteFailoverOptions = FailoverOptions

/**
 * `plan_failover_with`: a dry run; rejects with `BT_DR_REFUSED` where the move would be unsafe
 * (unplanned while the primary is healthy, or while its state is unknown without `forceUnknown`;
 * planned while the appliances serve different certificates without `forceCertificateMismatch`).
 */
export declare function planFailover(
  site: Site,
  appliances: PairAppliances,
  mode: FailoverMode,
  options?: PlanFailoverOptions | null,
): Promise<FailoverPlan>

/**
 * `execute_failover`: plans afresh (`forceUnknown` is needed again here), refuses when the
 * fresh plan differs from `plan`, then in the guide's order: redirects traffic (the `redirect`
 * hook, checked through `siteUrl`; a failing hook stops before any role change with outcome
 * `redirect_failed` / `redirect_mismatch`), changes the role once, polls until the pair settles
 * and confirms clients on the new primary.
 */
export declare function executeFailover(
  site: Site,
  appliances: PairAppliances,
  plan: FailoverPlan,
  options?: ExecuteFailoverOptions | null,
): Promise<FailoverTimeline>

// Type definitions of bt-dr for Node (hand-written; the generated native binding is in
// native/binding.d.ts). Every result is a plain, JSON-serializable object with camelCase keys;
// string enums keep the core's spelling. Timestamps are RFC 3339 strings, dates YYYY-MM-DD.

/// <reference types="node" />

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

/** The core's snake_case error kinds. */
export type ErrorKind =
  | 'invalid_input'
  | 'parse'
  | 'io'
  | 'certificate'
  | 'wrong_passphrase'
  | 'version_incompatible'
  | 'integrity'
  | 'auth'
  | 'permission_denied'
  | 'rate_limited'
  | 'api'
  | 'tls'
  | 'network'
  | 'timeout'
  | 'cancelled'
  | 'refused'
  | 'not_found'
  | 'internal'

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
 * snake_case `kind`, and the structured details of its kind as properties. Secrets never
 * appear in `message` or any property. A Rust panic inside bt-dr never aborts the process: it
 * is thrown (or rejects the promise) as a `BtDrError` with code `BT_DR_INTERNAL`.
 */
export interface BtDrError extends Error {
  name: 'BtDrError'
  code: ErrorCodeValue
  kind: ErrorKind
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

/** One public operation of bt-dr-core and its Node name. */
export interface Operation {
  /** snake_case core name, e.g. `check_restore`. */
  name: string
  area: string
  summary: string
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

export type Product = 'rs' | 'pra'
export type FailoverRole = 'none' | 'primary' | 'backup'
export type ClusterRole = 'single' | 'primary' | 'traffic'
export type ApplianceKind =
  | 'b200'
  | 'b300'
  | 'b400'
  | 'vmware'
  | 'hyper-v'
  | 'azure'
  | 'aws'
  | 'nutanix'
  | 'cloud'
  | 'hosted'
export type RoutingMethod = 'shared-ip' | 'dns-swing' | 'nat-swing'
export type Severity = 'info' | 'warning' | 'error' | 'critical'
/** `toml`, `json` or `yaml`. */
export type DocumentFormat = 'toml' | 'json' | 'yaml'
/** A date as `YYYY-MM-DD`, or a `Date` (its UTC day). */
export type DateLike = string | Date

/** One finding of a check. */
export interface Finding {
  /** Stable id, e.g. `no_passphrase`. */
  id: string
  severity: Severity
  subject: string
  message: string
  remediation: string | null
}

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

export interface ProductVersion {
  /** As given, normalized (`24.1.2` or `24.1.2 (37380-<commit>)`). */
  text: string
  /** `X.Y.Z`. */
  release: string
  major: number
  minor: number
  patch: number
  build: { number: number; commit: string } | null
}

/** `parse_version`. Throws `BT_DR_PARSE`. */
export declare function parseVersion(text: string): ProductVersion

// ---------------------------------------------------------------------------------------------
// Sites and inventory
// ---------------------------------------------------------------------------------------------

export interface Appliance {
  hostname: string
  kind: ApplianceKind
  serial?: string | null
  baseVersion?: string | null
  failoverRole?: FailoverRole
  clusterRole?: ClusterRole
  ip?: string | null
  apiUrl?: string | null
}

export interface AutoFailover {
  enabled?: boolean
  connectivityTestIps?: string[]
  primaryTimeoutSecs?: number
  dataSyncIntervalSecs?: number
  bandwidthLimitKbps?: number | null
}

export interface FailoverPair {
  primary: string
  backup: string
  routing: RoutingMethod
  sharedIps?: string[]
  autoFailover?: AutoFailover
}

export interface AtlasCluster {
  trafficNodes: Array<{ hostname: string; region?: string | null }>
}

export interface ColdSpare {
  hostname: string
  kind: ApplianceKind
  sameSwitch?: boolean
  sameNetwork?: boolean
}

/** How bt-dr reaches a site's API; the secret itself stays in the named environment variable. */
export interface ApiAccess {
  clientId: string
  clientSecretEnv: string
  caFile?: string | null
  pinSha256?: string | null
}

export interface Site {
  name: string
  fqdn: string
  product: Product
  version: string
  appliances?: Appliance[]
  failover?: FailoverPair | null
  atlas?: AtlasCluster | null
  coldSpare?: ColdSpare | null
  api?: ApiAccess | null
}

export interface Inventory {
  sites: Site[]
}

/** `load_inventory` from text. Throws `BT_DR_PARSE` / `BT_DR_INVALID_INPUT`. */
export declare function parseInventory(text: string, format: DocumentFormat): Inventory
/** `load_inventory`: a `.toml`, `.json`, `.yaml` or `.yml` file. */
export declare function loadInventory(path: string): Promise<Inventory>

// ---------------------------------------------------------------------------------------------
// Backups
// ---------------------------------------------------------------------------------------------

/** A parsed default NSB file name `bomgar-<version>-<site>-<date>-<id>.nsb`. */
export interface BackupName {
  /** The name formatted back (compact date form). */
  fileName: string
  /** `X.Y.Z`. */
  version: string
  site: string
  /** `YYYY-MM-DD`. */
  date: string
  /** `HH:MM:SS`, when the name carries a time. */
  time: string | null
  id: string
}

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

export type RestoreCompatibility = 'supported' | 'untested' | 'refused'

export interface RestoreCheck {
  compatibility: RestoreCompatibility
  backupVersion: string
  siteVersion: string
  reason: string
  warning: string | null
}

export interface UpgradeEntry {
  /** `X.Y` or `X.Y.Z`. */
  version: string
  product?: Product | null
  supportedUpgradesFrom: string[]
}

export interface UpgradeTable {
  releases: UpgradeEntry[]
}

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
/** `load_upgrade_table` from text (`toml` or `json`). */
export declare function parseUpgradeTable(text: string, format: 'toml' | 'json'): UpgradeTable
/** `load_upgrade_table`. */
export declare function loadUpgradeTable(path: string): Promise<UpgradeTable>

export interface NsbCoverage {
  product: Product
  includeLoggedHistory: boolean
  included: Array<{ id: string; label: string; note: string | null }>
  excluded: Array<{ id: string; label: string; saveInstead: string; btDrOperation: string | null }>
}

/** `nsb_coverage`: what an NSB holds and what must be saved another way. */
export declare function nsbCoverage(product: Product, options?: { includeLoggedHistory?: boolean }): NsbCoverage

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

export type CertClass = 'self_signed' | 'ca_signed' | 'intermediate' | 'root' | 'unclassified'

export interface CertInfo {
  subject: string
  issuer: string
  issuedTo: string
  issuedBy: string
  dnsNames: string[]
  ipAddresses: string[]
  notBefore: string
  notAfter: string
  serial: string
  sha256: string
  isCa: boolean
  keyAlgorithm: string
  keyBits: number
  class: CertClass
  friendlyName: string | null
}

export interface BundleReport {
  certificates: CertInfo[]
  /** Index of the leaf in `certificates`. */
  leaf: number | null
  /** Indexes of the chain, leaf first. */
  chain: number[]
  hasPrivateKey: boolean
  keyMatchesLeaf: boolean | null
  findings: Finding[]
}

export interface BundleCheckOptions {
  siteFqdn?: string | null
  applianceHostnames?: string[]
  /** Default 30. */
  expiryHorizonDays?: number
  /** Default 2048. */
  minRsaBits?: number
  /** RFC 3339 instant to judge validity at (default now). */
  now?: string | null
}

/**
 * `check_certificate_bundle`: opens a PKCS#12 file (path or bytes) and checks it.
 * Rejects with `BT_DR_WRONG_PASSPHRASE`, `BT_DR_CERTIFICATE` or `BT_DR_IO`.
 */
export declare function checkCertificateBundle(
  source: string | Buffer,
  passphrase: string,
  options?: BundleCheckOptions | null,
): Promise<BundleReport>

export interface PairReport {
  identical: boolean
  findings: Finding[]
}

/** `check_certificate_pair`: whether both appliances of a pair carry the identical certificate. */
export declare function checkCertificatePair(primary: BundleReport, backup: BundleReport): PairReport

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

export interface ApplianceRecord {
  identity: {
    hostname: string
    applianceVersion: string
    serial: string
    baseVersion: string
    /** RFC 3339. */
    systemTime: string
  }
  ipConfiguration?: Array<{
    name: string
    addresses?: string[]
    gateway?: string | null
    dnsServers?: string[]
  }>
  staticRoutes?: Array<{ destination: string; gateway: string; interface?: string | null }>
  snmp?: { enabled: boolean; version?: string | null; allowedHosts?: string[] } | null
  tls?: { protocols?: string[]; ciphers?: string[] } | null
  administration?: { allowedNetworks?: string[]; notes?: string | null } | null
  syslog?: { enabled: boolean; host?: string | null; port?: number | null; format?: string | null } | null
  loginAgreement?: { enabled: boolean; title?: string | null; text?: string | null } | null
  smtp?: {
    server?: string | null
    port?: number | null
    from?: string | null
    certificateReminders?: boolean
    recipients?: string[]
  } | null
}

/** `appliance_record`: load, validate and save `/appliance` settings records. */
export declare const applianceRecord: Readonly<{
  /** Parses and validates text (`toml` or `json`). */
  parse(text: string, format: 'toml' | 'json'): ApplianceRecord
  /** Loads and validates a record file. */
  load(path: string): Promise<ApplianceRecord>
  /** Throws `BT_DR_INVALID_INPUT` (with `field`) when the record misses what a recovery needs. */
  validate(record: ApplianceRecord): void
  /** The identifying file name (hostname, versions, serial, system time). */
  fileName(record: ApplianceRecord): string
  /** Validates and writes the record as JSON into `dir`; resolves to the file's path. */
  save(record: ApplianceRecord, dir: string): Promise<string>
}>

export interface VaultKeyRecord {
  site: string
  /** `YYYY-MM-DD`: pairs the key with the backup of that day. */
  date: string
  fileName: string
  sha256: string
  size: number
  passwordProtected: boolean
  recordedAt: string
  /** The core's findings about the key (e.g. `vault_key_unprotected`). */
  findings: Finding[]
}

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

export interface Health {
  applianceId: string
  hostname: string
  /** `X.Y.Z (build-commit)`. */
  version: string
  success: boolean
  errorMessage: string | null
  failoverRole: FailoverRole
  enabledSharedIps: string[]
  lastDataSyncTime: string | null
  lastDataSyncStatus: string | null
}

export interface Probe {
  healthy: boolean
  status: number
  message: string
  /** SHA-256 of the certificate the appliance served. */
  peerCertificateSha256: string | null
}

export type CommandAccess = 'deny' | 'read_only' | 'full_access'

export interface Permissions {
  command: CommandAccess
  backup: boolean
  reportingSupport: boolean
  reportingArchive: boolean
  vaultBackup: boolean
  configuration: boolean
  configurationVaultAccount: boolean
  /** Every permission as the appliance named it (`perm_command`, …). */
  raw: Record<string, string>
}

export interface ApiInfo {
  apiVersion: string
  companyName: string | null
  timestamp: number | null
  permissions: Permissions
}

export interface ApplianceInfo {
  id: string
  name: string
  publicHostname: string
  clusterRole: ClusterRole
  failoverRole: FailoverRole
  acceptingConnections: boolean
  timezoneOffset: number | null
}

export interface ConnectedClient {
  id: string
  clientType: string
}

export interface RoleChange {
  message: string
  /** The appliance started a data sync first; the roles change when it completes. */
  syncStarted: boolean
}

export interface DownloadedFile {
  path: string
  fileName: string
  size: number
  sha256: string
}

export interface BackupSidecar {
  fileName: string
  site: string
  sourceHost: string
  product: Product
  version: string
  size: number
  sha256: string
  downloadedAt: string
  passwordProtected: boolean
  applianceFileName: string | null
}

export interface BackupDownload {
  file: DownloadedFile
  sidecarPath: string
  sidecar: BackupSidecar
}

/** Exactly one time window (or session selection) of a session report. */
export type TimeWindow =
  | { type: 'start_date'; date: string; days: number }
  | { type: 'start_time'; unix: number; seconds: number }
  | { type: 'end_date'; date: string; days: number }
  | { type: 'end_time'; unix: number; seconds: number }
  | { type: 'lsid'; lsid: string }
  | { type: 'lsids'; lsids: string[] }

export interface Session {
  lsid: string
  startTime: string | null
  endTime: string | null
  duration: string | null
  sessionType: string | null
  publicSite: string | null
  primaryCustomer: string | null
  primaryRep: string | null
  recordingUrl: string | null
}

export type ArchiveKind = 'state' | 'event'

export interface ArchiveEntry {
  kind: ArchiveKind
  index: number
  start: string | null
  end: string | null
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

export type FileKind =
  | 'nsb'
  | 'sidecar'
  | 'recording'
  | 'certificate_bundle'
  | 'appliance_record'
  | 'vault_key'
  | 'vault_key_record'

export interface ManifestFile {
  /** Relative to the set folder, `/`-separated. */
  path: string
  kind: FileKind
  size: number
  sha256: string
}

/** The manifest of a backup set (`manifest.json` in the set folder, camelCased). */
export interface Manifest {
  format: number
  site: string
  fqdn: string
  product: Product
  siteVersion: string
  sourceHost: string
  createdAt: string
  completedAt: string
  nsb: { file: string; version: string; passwordProtected: boolean }
  files: ManifestFile[]
  recordings: { since: number; until: number; count: number } | null
  certificate: {
    file: string
    leafSha256: string | null
    leafNotAfter: string | null
    findings: Finding[]
  } | null
  applianceRecords: ApplianceRecord['identity'][]
  vaultKey: Omit<VaultKeyRecord, 'findings'> | null
  notCovered: Array<{ id: string; label: string; inThisSet: boolean; saveInstead: string }>
  findings: Finding[]
  /** Every part and how it went (empty in manifests written before parts were recorded). */
  parts: PartOutcome[]
  /** A part failed: the set holds the NSB and every part that succeeded, not everything asked for. */
  partial: boolean
}

/** A part of a backup set. */
export type SetPart = 'nsb' | 'recordings' | 'certificate' | 'appliance_records' | 'vault_key'

/** How one part of a set went; a failed part carries its typed error. */
export interface PartOutcome {
  part: SetPart
  status: 'ok' | 'failed' | 'skipped'
  error?: ErrorReport
}

/** Crash leftovers (`.bt-dr-*.partial`, `.incomplete-*`, `.deleting-*`) a store operation cleaned. */
export interface CleanReport {
  removed: string[]
  /** Younger than the safe age: left for a run that may still be using them. */
  keptRecent: string[]
  failed: Array<{ path: string; error: ErrorReport }>
}

export interface BackupSetReport {
  site: string
  setId: string
  /** The set folder. */
  path: string
  manifest: Manifest
  /**
   * A part failed (see `manifest.parts` with `status: 'failed'`): the set was kept with the NSB
   * and every part that succeeded. A partial set never counts as the newest verified set.
   */
  partial: boolean
  /** Crash leftovers of earlier runs the store removed before this run. */
  cleaned: CleanReport
}

export interface BackupSetOptions extends TransferOptions {
  /** The site backup password, when backups are password protected. */
  backupPassword?: string
  /** Download recordings since the last run (default true). */
  recordings?: boolean
  /** How far back the first run reaches for recordings (default 7). */
  firstRunRecordingsDays?: number
  /** The p12 exported from `/appliance`, kept and checked with the set. */
  certificateBundle?: string
  certificatePassphrase?: string
  /** `/appliance` record files (TOML/JSON). */
  applianceRecords?: string[]
  /** The downloaded Vault key file. */
  vaultKey?: { path: string; passwordProtected: boolean }
}

/**
 * A typed error as data (the core's `ErrorReport`): stable `kind` and `code`, the redacted
 * `message`, and `details` (the error's fields, camelCased).
 */
export interface ErrorReport {
  kind: ErrorKind
  code: ErrorCodeValue
  message: string
  details: Record<string, unknown>
}

/** A failure reported as data (in a job or a live sweep): `code`, `kind`, `message` and details. */
export interface ErrorInfo {
  code: ErrorCodeValue
  kind: ErrorKind
  message: string
  [detail: string]: unknown
}

export interface SiteOutcome {
  site: string
  report: BackupSetReport | null
  error: ErrorInfo | null
  /** A set was taken but a part of it failed (see `report.manifest.parts`). */
  partial: boolean
  elapsedMs: number
}

export interface JobReport {
  /** Per site, in input order. */
  sites: SiteOutcome[]
}

export interface JobProgressEvent extends ProgressEvent {
  site: string
}

export interface BackupJob {
  site: Site
  /** Client of the appliance to back up from (normally the primary). */
  client: Client
  options?: Omit<BackupSetOptions, 'signal' | 'onProgress'>
}

export interface VerifyReport {
  path: string
  filesChecked: number
  bytesChecked: number
  problems: Array<{
    path: string
    /** `missing`, `size_mismatch`, `hash_mismatch`, `unlisted` or `no_manifest`. */
    problem: string
    detail: string
  }>
  /** Every file is present and matches. */
  ok: boolean
  /** The manifest says a part failed when the set was taken (its files may still be intact). */
  partial: boolean
}

export interface SetSummary {
  id: string
  site: string
  path: string
  createdAt: string
  manifest: Manifest
}

export interface RetentionPolicy {
  keepLast?: number | null
  keepHourly?: number | null
  keepDaily?: number | null
  keepWeekly?: number | null
  keepMonthly?: number | null
  keepYearly?: number | null
  keepWithinHours?: number | null
  /**
   * Retention floor in bytes: a set whose NSB is smaller never counts as the protected newest
   * verified set (default 16 KiB). Not a keep rule.
   */
  minNsbBytes?: number | null
}

export interface RetentionPlan {
  site: string
  /** Kept sets, newest first, with every reason. */
  keep: Array<{ id: string; reasons: string[] }>
  /** Ids to remove, newest first. */
  remove: string[]
  /**
   * The floor the plan was made with; applying re-checks with it. Leave it out of a plan you
   * build yourself and the core's default (16 KiB) applies; 0 turns the floor off.
   */
  minNsbBytes?: number
}

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
 * `run_backup_job`: backs up many sites concurrently (default 4 at a time); a failing site is
 * reported in its outcome and does not stop the others.
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

export interface ApplianceLive {
  hostname: string
  health: Health | null
  error: ErrorInfo | null
  servedCertSha256: string | null
  appliances: ApplianceInfo[] | null
}

export interface SiteLive {
  site: string
  appliances: ApplianceLive[]
}

export interface AuditOptions {
  /** Backup store folder (backup, certificate, record and key rules are skipped without it). */
  store?: string | null
  /** Live state per site, from `collectLive` (live rules are skipped for sites without it). */
  live?: SiteLive[]
  upgradeTable?: UpgradeTable | null
  /** Default 26. */
  maxBackupAgeHours?: number
  maxSyncAgeHours?: number | null
  /** Default 30. */
  certificateHorizonDays?: number
  /** RFC 3339 instant to judge at (default now). */
  now?: string | null
}

export interface AuditFinding extends Finding {
  site: string
}

export interface AuditReport {
  /** `bt-dr.audit/1`. */
  schema: string
  generatedAt: string
  sites: string[]
  summary: { critical: number; error: number; warning: number; info: number }
  /** Most severe first. */
  findings: AuditFinding[]
}

/** `audit`: the readiness audit of the fleet. */
export declare function audit(inventory: Inventory, options?: AuditOptions | null): Promise<AuditReport>
/** The core's Markdown rendering of an audit report. */
export declare function auditMarkdown(report: AuditReport): string
/** Live state of a site's appliances (health, served certificate, pair view), for `audit`. */
export declare function collectLive(
  site: string,
  appliances: Array<{ hostname: string; client: Client }>,
): Promise<SiteLive>
/** Health of many appliances at once, in input order. */
export declare function healthSweep(
  clients: Client[],
  options?: { concurrency?: number },
): Promise<Array<{ health: Health | null; error: ErrorInfo | null }>>

// ---------------------------------------------------------------------------------------------
// Runbook and failover
// ---------------------------------------------------------------------------------------------

/** `render_runbook`: the site's recovery runbook in Markdown. */
export declare function renderRunbook(
  site: Site,
  options?: { store?: string | null; upgradeTable?: UpgradeTable | null } | null,
): Promise<string>

export type FailoverMode = 'planned' | 'unplanned'

/**
 * `reachable`: `checkHealth` answered. `unreachable`: both the API and the `/check_health`
 * probe failed at the network level (refused, reset, time-out): nothing answers. `unknown`:
 * something answered, but with a TLS, pin, authentication, permission, rate-limit, parse or
 * API error: it may be up and serving (an unplanned failover then needs `forceUnknown`).
 */
export type Reachability = 'reachable' | 'unreachable' | 'unknown'

export interface ApplianceState {
  hostname: string
  reachability: Reachability
  /** `reachability === 'reachable'` (kept for readers of the older shape). */
  reachable: boolean
  healthy: boolean
  /** Role (null unless reachable). */
  role: FailoverRole | null
  /** Why `check_health` failed, when it did. */
  error: ErrorReport | null
  /** HTTP status of the unauthenticated `/check_health` probe, when it answered. */
  probeStatus: number | null
  /** Why the probe failed, when it did. */
  probeError: ErrorReport | null
}

export interface FailoverPlan {
  site: string
  mode: FailoverMode
  from: ApplianceState
  to: ApplianceState
  connectedClients: number | null
  steps: Array<{ action: string; automated: boolean }>
  warnings: string[]
}

export type FailoverOutcome = 'settled' | 'timed_out' | 'split_brain'

export interface FailoverTimeline {
  site: string
  mode: FailoverMode
  events: Array<{
    elapsedMs: number
    event: string
    fromRole: FailoverRole | null
    toRole: FailoverRole | null
  }>
  outcome: FailoverOutcome
  /** Remaining manual steps (traffic swing, demotion). */
  followUp: string[]
}

/** The two appliances of a failover pair, in any order. */
export type PairAppliances = [
  { hostname: string; client: Client },
  { hostname: string; client: Client },
]

export interface PlanFailoverOptions {
  /**
   * Plan although the old primary's state is `unknown` (it answered, but with a TLS, pin,
   * authentication, permission, rate-limit, parse or API error); a warning says so. Only when
   * you have confirmed by other means that it is down or no longer serving: otherwise an
   * unplanned failover leaves two primaries. Default false.
   */
  forceUnknown?: boolean
}

export interface ExecuteFailoverOptions extends PlanFailoverOptions {
  settleTimeoutMs?: number
  pollIntervalMs?: number
  /**
   * After an unplanned promotion, if the old primary still claims primary, demote it with
   * `set_failover_role(backup, force=1)`. Default false: bt-dr demotes nothing by itself; the
   * outcome is then `split_brain` with the demotion as a follow-up step.
   */
  demoteOldPrimary?: boolean
}

/**
 * `plan_failover_with`: a dry run; rejects with `BT_DR_REFUSED` where the move would be unsafe
 * (unplanned while the primary is healthy, or while its state is unknown without `forceUnknown`).
 */
export declare function planFailover(
  site: Site,
  appliances: PairAppliances,
  mode: FailoverMode,
  options?: PlanFailoverOptions | null,
): Promise<FailoverPlan>

/**
 * `execute_failover`: plans afresh (`forceUnknown` is needed again here), refuses when the
 * fresh plan differs from `plan`, changes the role once and polls until the pair settles.
 */
export declare function executeFailover(
  site: Site,
  appliances: PairAppliances,
  plan: FailoverPlan,
  options?: ExecuteFailoverOptions | null,
): Promise<FailoverTimeline>

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
/**
 * A kind of Reporting API data a backup set archives itself (the core's `ReportKind`).
 * Per-session kinds are fetched by `lsid`; exit surveys by time window. RS has every kind; PRA
 * has session reports, session recordings and command shell recordings.
 */
export type ReportKind =
  | 'session_report'
  | 'session_recording'
  | 'show_my_screen_recording'
  | 'command_shell_recording'
  | 'presentation_recording'
  | 'customer_exit_survey'
  | 'rep_exit_survey'
export type Severity = 'info' | 'warning' | 'error' | 'critical'
/** `toml`, `json` or `yaml` (`yml` and any case are accepted too). Text given without a format is TOML, the core's default. */
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
  /** Build number of the `check_health` form, `null` for a bare `X.Y.Z`. */
  buildNumber: number | null
  /** Build commit of the `check_health` form, `null` for a bare `X.Y.Z`. */
  buildCommit: string | null
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
  /**
   * The site serves a certificate of its own (default false). A Cloud site works with
   * BeyondTrust's default certificate; only a custom one needs backing up.
   */
  customCertificate?: boolean
  /** The site has custom SSL/TLS settings, which `/appliance` records must then hold (default false). */
  customTls?: boolean
}

/**
 * The limits the vendor guide leaves open, which bt-dr chooses (the inventory's optional
 * `[thresholds]` table; every value has a documented default).
 */
export interface Thresholds {
  /** Newest backup older than this is stale (default 26: a nightly job plus slack). */
  maxBackupAgeHours: number
  /** Warn when a certificate expires within this many days (default 30). */
  certificateHorizonDays: number
  /** A data sync is stale after this many sync intervals (default 2)… */
  syncStaleFactor: number
  /** …and never before this many hours (default 1). */
  syncStaleMinHours: number
  /** Automatic failover wants at least this many connectivity test IPs (default 2). */
  minConnectivityTestIps: number
  /** Smallest acceptable RSA key in bits (default 2048). */
  minRsaBits: number
}

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
  /**
   * What to do around the restore, in order (empty when nothing special applies). For a site
   * with a failover pair, `checkRestoreOnto` gives the guide's order: break failover, restore,
   * reset the inter-appliance pre-shared key, re-establish failover.
   */
  steps: string[]
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

export interface NsbCoverage {
  product: Product
  includeLoggedHistory: boolean
  included: Array<{ id: string; label: string; note: string | null }>
  excluded: Array<{
    id: string
    label: string
    saveInstead: string
    btDrOperation: string | null
    /** The Reporting API kinds that hold it (a backup set archives them). */
    reportKinds: ReportKind[]
  }>
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

/** What `checkCertificateBundle` returns: the report with the core's verdict on it. */
export interface BundleReportView extends BundleReport {
  /** No finding at `error` level or above. */
  usable: boolean
  /** The most severe finding, `null` when there is none. */
  worst: Severity | null
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
): Promise<BundleReportView>

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

export type FileKind =
  | 'nsb'
  | 'sidecar'
  /** Only in manifests of format 2 and older: recordings now live in the reporting archive. */
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

/** One file of the site's reporting archive a set refers to. */
export interface ReportingRef {
  kind: ReportKind
  /** The session it belongs to (absent for exit surveys, which cover a time window). */
  lsid?: string
  /** Relative to the site's folder (`<store>/<site>/`), `reporting/<kind>/<file>`. */
  path: string
  size: number
  sha256: string
}

/** How one kind of reporting data went in a set. */
export interface ReportingKindOutcome {
  kind: ReportKind
  /** `not_permitted`: the API account may not take this kind (a finding, not a failure). */
  status: 'ok' | 'not_permitted' | 'failed'
  /** Files of this kind the set refers to. */
  count: number
  /** Window start (UNIX seconds). */
  since: number
  /** Covered up to here (UNIX seconds). */
  until: number
  /** The typed error, when it failed or was refused. */
  error?: ErrorReport
}

/** The NSB of one appliance, in a set that took one from each appliance of a pair. */
export interface ApplianceNsb {
  /** The appliance's host, as the client reached it. */
  host: string
  /** Base URL of its API (tells two appliances on one host apart). */
  baseUrl: string
  /** Its failover role when the set was taken (null: it did not say). */
  role: FailoverRole | null
  /** Path of the NSB in the set, `/`-separated (`appliances/<host>/…` for the others). */
  file: string
  version: string
  passwordProtected: boolean
  /** This is the set's main NSB (`manifest.nsb`). */
  main: boolean
}

/** The manifest of a backup set (`manifest.json` in the set folder, camelCased). */
export interface Manifest {
  /** Manifest format version (3 since reporting data moved to the site's archive). */
  format: number
  site: string
  fqdn: string
  product: Product
  siteVersion: string
  sourceHost: string
  createdAt: string
  completedAt: string
  nsb: { file: string; version: string; passwordProtected: boolean }
  /**
   * Every appliance's NSB, main one first, with its role — present when `otherAppliances`
   * were given (absent otherwise).
   */
  applianceNsbs?: ApplianceNsb[]
  files: ManifestFile[]
  /** Reporting data of this run: earliest start, covered-until, file count, and how each kind went. */
  recordings: { since: number; until: number; count: number; kinds: ReportingKindOutcome[] } | null
  /**
   * The reporting archive files (recordings of every kind, session reports, exit surveys) this
   * set took. They live in the site's archive, not in the set, so removing the set keeps them.
   */
  reporting: ReportingRef[]
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
export type SetPart = 'nsb' | 'appliance_nsbs' | 'recordings' | 'certificate' | 'appliance_records' | 'vault_key'

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

/**
 * Options of a backup set. Every key except `signal`, `onProgress` and `otherAppliances` goes to
 * the core's one options parser: an unknown key rejects with `BT_DR_INVALID_INPUT`.
 */
export interface BackupSetOptions extends TransferOptions {
  /** The site backup password, when backups are password protected. */
  backupPassword?: string
  /** Take reporting data (recordings, session reports, exit surveys) since the last run (default true). */
  recordings?: boolean
  /** Which reporting kinds to take (default: every kind the product has; `[]`: none). */
  reportingKinds?: ReportKind[] | null
  /** How far back the first run reaches for each kind, in days (default 7). */
  firstRunRecordingsDays?: number
  /** Expiry horizon and RSA minimum of the bundle check, as in an inventory's `thresholds`. */
  thresholds?: Partial<Thresholds> | null
  /** The p12 exported from `/appliance`, kept and checked with the set. */
  certificateBundle?: string
  certificatePassphrase?: string
  /** `/appliance` record files (TOML/JSON). */
  applianceRecords?: string[]
  /** The downloaded Vault key file. */
  /** `exportedOn` (`YYYY-MM-DD`): the day the key was exported (default: the file's modification day). */
  vaultKey?: { path: string; passwordProtected: boolean; exportedOn?: string }
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
export interface ErrorReport {
  kind: ErrorKind
  code: ErrorCodeValue
  message: string
  details: Record<string, unknown>
}

/**
 * @deprecated A failure reported as data is an {@link ErrorReport} (its details are under
 * `details`); this name stays for existing type imports.
 */
export type ErrorInfo = ErrorReport

export interface SiteOutcome {
  site: string
  report: BackupSetReport | null
  error: ErrorReport | null
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
  /** Every file is present and matches (the core's verdict, `VerifyReport::view`). */
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
   * On top of the rules above, the newest verified set of each of the last N product versions
   * (default 2; 0 switches it off). Does not make an otherwise empty policy acceptable.
   */
  keepVersions?: number | null
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

export interface ApplianceLive {
  hostname: string
  health: Health | null
  error: ErrorReport | null
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
  /** Overrides the inventory's `thresholds.maxBackupAgeHours` (default 26). */
  maxBackupAgeHours?: number | null
  /**
   * A data sync older than this is stale (default: the inventory's `syncStaleFactor` times the
   * pair's sync interval, at least `syncStaleMinHours`).
   */
  maxSyncAgeHours?: number | null
  /** Overrides the inventory's `thresholds.certificateHorizonDays` (default 30). */
  certificateHorizonDays?: number | null
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

/** What `audit` returns: the report with the core's verdict on it (`AuditReport::view`). */
export interface AuditReportView extends AuditReport {
  /** The most severe finding, `null` when there is none. */
  worst: Severity | null
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
export interface AtlasCheckOptions {
  /** Milliseconds between the two samples of connected clients (default 30000, at most 3600000). */
  sampleIntervalMs?: number
}

/** How a node's connected clients moved between the two samples. */
export type ClientTrend = 'increasing' | 'steady' | 'decreasing'

export interface ClientSample {
  /** RFC 3339. */
  at: string
  total: number
  /** Representative consoles among them. */
  representatives: number
}

export interface AtlasNode {
  hostname: string
  /** `traffic` for traffic nodes, `primary` for the site's failover pair. */
  role: ClusterRole
  /** Listed by the cluster's `get_appliances` (null: no primary node answered it). */
  listed: boolean | null
  listedRole: ClusterRole | null
  acceptingConnections: boolean | null
  /** It answered at all. */
  reachable: boolean
  healthy: boolean | null
  /** `X.Y.Z`. */
  version: string | null
  lastSyncTime: string | null
  lastSyncStatus: string | null
  /** The connected-client samples that succeeded, oldest first. */
  samples: ClientSample[]
  trend: ClientTrend | null
  /** The first error met asking it. */
  error: ErrorReport | null
}

export interface AtlasReport {
  site: string
  checkedAt: string
  sampleIntervalMs: number
  /** Primary nodes first, then traffic nodes, in inventory order. */
  nodes: AtlasNode[]
  /** Most severe first (`traffic_node_not_in_cluster`, `traffic_node_clients_decreasing`, …). */
  findings: Finding[]
}

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
  /**
   * SHA-256 of the leaf certificate the appliance presented in the TLS handshake; null when no
   * handshake reached that point.
   */
  servedLeafSha256: string | null
}

/** The stages of a failover, in the guide's order. */
export type FailoverStep = 'redirect' | 'verify_redirect' | 'role_change' | 'settle' | 'demote' | 'confirm'

/** One step of a plan. */
export interface PlanStep {
  action: string
  /** Done by bt-dr (true) or by a person (false). */
  automated: boolean
  /** The stage it belongs to (null in plans made before stages were recorded). */
  step: FailoverStep | null
}

/** How the leaf certificates the two appliances serve compare. */
export type LeafComparison = 'identical' | 'different' | 'unknown'

export interface FailoverPlan {
  site: string
  mode: FailoverMode
  from: ApplianceState
  to: ApplianceState
  connectedClients: number | null
  /** Steps in order: redirect, role change, settle, confirm. */
  steps: PlanStep[]
  warnings: string[]
  /** A planned failover is refused on `different` unless `forceCertificateMismatch`. */
  certificates: LeafComparison
  /** The URL through which clients reach the site (`siteUrl`, by default `https://<fqdn>`). */
  siteUrl: string | null
}

export type FailoverOutcome = 'settled' | 'timed_out' | 'split_brain' | 'redirect_failed' | 'redirect_mismatch'

/** Who moved the traffic: `automatic` (shared IP), the `command` hook, a `callback` (Rust only) or `manual`. */
export type RedirectMethod = 'automatic' | 'command' | 'callback' | 'manual'

/** What happened to the traffic redirect during execution. */
export interface RedirectReport {
  routing: RoutingMethod
  method: RedirectMethod
  /** The URL checked. */
  siteUrl: string
  /** A hook ran and succeeded. */
  ran: boolean
  /** The site URL answered as the promoted appliance. */
  verified: boolean
  /** The appliance (hostname from `check_health`) the site URL last answered as. */
  answeredBy: string | null
  /** Why the hook or the check failed. */
  error: ErrorReport | null
}

/** Whether clients work on the new primary after the role change. */
export interface ClientConfirmation {
  siteUrl: string
  connectedClients: number | null
  siteStatus: number | null
  siteHealthy: boolean
  siteAnsweredBy: string | null
  siteReachesTarget: boolean
  /** At least one client on the new primary, and the site URL healthy and answering as it. */
  confirmed: boolean
  clientsError: ErrorReport | null
  siteError: ErrorReport | null
  waitedMs: number
}

export interface TimelineEvent {
  elapsedMs: number
  event: string
  fromRole: FailoverRole | null
  toRole: FailoverRole | null
  /** The stage it belongs to (null in timelines recorded before stages were). */
  step: FailoverStep | null
  /** The error this event reports, if any. */
  error: ErrorReport | null
}

export interface FailoverTimeline {
  site: string
  mode: FailoverMode
  events: TimelineEvent[]
  outcome: FailoverOutcome
  /** Remaining manual steps (traffic swing, demotion). */
  followUp: string[]
  /** What happened to the traffic redirect. */
  redirect: RedirectReport | null
  /** Whether clients work on the new primary (after a settled role change only). */
  confirmation: ClientConfirmation | null
  /** The error that stopped execution early, when one did. */
  error: ErrorReport | null
}

/** The two appliances of a failover pair, in any order. */
export type PairAppliances = [
  { hostname: string; client: Client },
  { hostname: string; client: Client },
]

/**
 * The hook that moves client traffic for a DNS or NAT swing: a program and its arguments, run
 * directly (no shell) with `BT_DR_SITE`, `BT_DR_FQDN`, `BT_DR_FROM`, `BT_DR_TO`, `BT_DR_TO_IP`,
 * `BT_DR_ROUTING`, `BT_DR_MODE` and `BT_DR_SITE_URL` in its environment. Exit status 0 is
 * success; anything else, or running past the timeout, stops the failover before the role
 * change. Plans and timelines name the program only, never its arguments.
 */
export interface TrafficRedirect {
  command: string[]
  /** Longest the hook may run (default 120000). */
  timeoutMs?: number
}

/**
 * Options of planning and execution, read by the core's one parser: an unknown key rejects
 * with `BT_DR_INVALID_INPUT`. Times are milliseconds; 0 or absent keeps the default.
 */
export interface FailoverOptions {
  /**
   * Plan although the old primary's state is `unknown` (it answered, but with a TLS, pin,
   * authentication, permission, rate-limit, parse or API error); a warning says so. Only when
   * you have confirmed by other means that it is down or no longer serving: otherwise an
   * unplanned failover leaves two primaries. Needed again at execution. Default false.
   */
  forceUnknown?: boolean
  /**
   * Go ahead with a planned failover although the two appliances serve different certificates
   * (the plan then carries a warning). Default false.
   */
  forceCertificateMismatch?: boolean
  /** Give up waiting for the roles to settle after this long (default 180000). */
  settleTimeoutMs?: number
  /** Poll interval (default 500). */
  pollIntervalMs?: number
  /**
   * After an unplanned promotion, if the old primary still claims primary, demote it with
   * `set_failover_role(backup, force=1)`. Default false: bt-dr demotes nothing by itself; the
   * outcome is then `split_brain` with the demotion as a follow-up step.
   */
  demoteOldPrimary?: boolean
  /** The DNS/NAT swing hook; without it the swing is a manual step (not used with a shared IP). */
  redirect?: TrafficRedirect | null
  /** How clients reach the site, for the redirect check and the confirmation (default `https://<fqdn>`). */
  siteUrl?: string | null
  /** After the hook, how long to wait for the site URL to answer as the target (default 180000). */
  redirectVerifyTimeoutMs?: number
  /** After the role change, how long to wait for clients on the new primary (default 120000). */
  confirmTimeoutMs?: number
}

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

'use strict'
// bt-dr for Node: the public entry point. A thin, hand-written layer over the generated
// napi-rs binding in ./native (built by `napi build`, see README.md). It only adapts calling
// conventions:
//   * options objects and AbortSignal for downloads (an AbortSignal cancels the native
//     CancelToken; the core then removes the partial file);
//   * progress callbacks that are guarded, so a throwing callback cancels the transfer and its
//     error becomes the rejection instead of crashing the process;
//   * dates given as Date objects are turned into YYYY-MM-DD (UTC).
// Errors are built natively (see bt-dr-node/src/convert.rs): `code` is the core's stable
// BT_DR_* code and the structured details are properties of the Error. Every result is a
// plain camelCase object described in index.d.ts.

const native = require('./native/binding.js')

/** Node name of a core operation name: snake_case → camelCase. */
function nodeName(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
}

const ErrorCode = Object.freeze(
  Object.fromEntries(native.errorKinds().map(({ kind, code }) => [kind.toUpperCase(), code])),
)

function isBtDrError(e) {
  return e instanceof Error && typeof e.code === 'string' && e.code.startsWith('BT_DR_')
}

function dateArg(d) {
  return d instanceof Date ? d.toISOString().slice(0, 10) : d
}

/**
 * Runs one native transfer with an optional AbortSignal and progress callback.
 * `start(progress, token)` calls the native method.
 */
function transfer(options, start) {
  const { signal, onProgress } = options ?? {}
  if (signal != null && typeof signal.addEventListener !== 'function') {
    throw new TypeError('options.signal must be an AbortSignal')
  }
  if (onProgress != null && typeof onProgress !== 'function') {
    throw new TypeError('options.onProgress must be a function')
  }
  const token = new native.CancelToken()
  let callbackError = null
  const progress =
    onProgress == null
      ? null
      : (event) => {
          if (callbackError !== null) return
          try {
            onProgress({ ...event, total: event.total ?? null })
          } catch (e) {
            callbackError = { error: e }
            token.cancel()
          }
        }
  const onAbort = () => token.cancel()
  if (signal) {
    if (signal.aborted) token.cancel()
    else signal.addEventListener('abort', onAbort, { once: true })
  }
  let pending
  try {
    pending = start(progress, token)
  } catch (e) {
    signal?.removeEventListener('abort', onAbort)
    throw e
  }
  // Progress calls travel on their own queue; waiting one turn of the event loop lets every
  // call made before the transfer ended reach `onProgress` before the promise settles.
  const settle = () => new Promise((resolve) => setImmediate(resolve))
  return pending.then(
    async (result) => {
      signal?.removeEventListener('abort', onAbort)
      await settle()
      return result
    },
    async (error) => {
      signal?.removeEventListener('abort', onAbort)
      await settle()
      throw callbackError !== null ? callbackError.error : error
    },
  )
}

/** A client for one appliance's web APIs. See index.d.ts. */
class Client {
  #native

  constructor(options) {
    // Checked here so that a mistyped secret is never echoed by a native conversion error.
    if (options == null || typeof options.clientSecret !== 'string') {
      throw new TypeError('options.clientSecret must be a string')
    }
    this.#native = new native.Client(options)
  }

  get baseUrl() {
    return this.#native.baseUrl
  }
  get host() {
    return this.#native.host
  }
  get product() {
    return this.#native.product
  }
  get servedLeafSha256() {
    return this.#native.servedLeafSha256 ?? null
  }

  checkHealth() {
    return this.#native.checkHealth()
  }
  probeHealth() {
    return this.#native.probeHealth()
  }
  getApiInfo() {
    return this.#native.getApiInfo()
  }
  getAppliances() {
    return this.#native.getAppliances()
  }
  getConnectedClients() {
    return this.#native.getConnectedClients()
  }
  setFailoverRole(role, options = {}) {
    return this.#native.setFailoverRole(role, options.dataSyncFirst ?? false, options.force ?? false)
  }
  downloadBackup(dir, options = {}) {
    return transfer(options, (progress, token) =>
      this.#native.downloadBackup(dir, options.password ?? null, progress, token),
    )
  }
  listSessions(window) {
    return this.#native.listSessions(window)
  }
  getSession(lsid) {
    return this.#native.getSession(lsid)
  }
  downloadRecording(lsid, dir, options = {}) {
    return transfer(options, (progress, token) =>
      this.#native.downloadRecording(lsid, dir, progress, token),
    )
  }
  downloadReport(kind, window, dir, options = {}) {
    return transfer(options, (progress, token) =>
      this.#native.downloadReport(kind, window, dir, progress, token),
    )
  }
  listArchives(date) {
    return this.#native.listArchives(dateArg(date))
  }
  downloadArchive(kind, date, index, dir, options = {}) {
    return transfer(options, (progress, token) =>
      this.#native.downloadArchive(kind, dateArg(date), index, dir, progress, token),
    )
  }

  /** @internal the native client, for DR operations that take a client. */
  static _native(client) {
    return client.#native
  }
}

/** The native client inside a `Client` (TypeError for anything else). */
function nativeClient(client) {
  if (!(client instanceof Client)) throw new TypeError('expected a bt-dr Client')
  return Client._native(client)
}

/** `[{hostname, client}, …]` → parallel arrays for the native layer. */
function appliancesArg(appliances, what) {
  if (!Array.isArray(appliances)) throw new TypeError(`${what} must be an array of { hostname, client }`)
  return [appliances.map((a) => a.hostname), appliances.map((a) => nativeClient(a.client))]
}

function pairArg(appliances) {
  if (!Array.isArray(appliances) || appliances.length !== 2) {
    throw new TypeError('appliances must be the two { hostname, client } of the failover pair')
  }
  const [hosts, clients] = appliancesArg(appliances, 'appliances')
  return [hosts[0], clients[0], hosts[1], clients[1]]
}

/** `options.otherAppliances` (clients, not JSON) split from the options the core parses. */
function otherAppliancesArg(options) {
  const { otherAppliances, ...rest } = options ?? {}
  if (otherAppliances != null && !Array.isArray(otherAppliances)) {
    throw new TypeError('options.otherAppliances must be an array of bt-dr Clients')
  }
  return [(otherAppliances ?? []).map(nativeClient), rest]
}

function runBackupSet(store, site, client, options = {}) {
  const { signal, onProgress, ...json } = options ?? {}
  const c = nativeClient(client)
  const [others, rest] = otherAppliancesArg(json)
  return transfer({ signal, onProgress }, (progress, token) =>
    native.runBackupSet(store, site, c, rest, progress, token, others),
  )
}

function runBackupJob(store, jobs, options = {}) {
  const { signal, onProgress, concurrency } = options ?? {}
  if (!Array.isArray(jobs)) throw new TypeError('jobs must be an array of { site, client, options? }')
  const sites = jobs.map((j) => j.site)
  const clients = jobs.map((j) => nativeClient(j.client))
  const split = jobs.map((j) => otherAppliancesArg(j.options))
  const opts = jobs.map((j, i) => (j.options == null ? null : split[i][1]))
  const others = split.flatMap(([o]) => o)
  const counts = split.map(([o]) => o.length)
  return transfer({ signal, onProgress }, (progress, token) =>
    native.runBackupJob(store, sites, clients, opts, concurrency ?? null, progress, token, others, counts),
  )
}

const applianceRecord = Object.freeze({
  parse: (text, format) => native.applianceRecordParse(text, format ?? null),
  load: (path) => native.applianceRecordLoad(path),
  validate: (record) => native.applianceRecordValidate(record),
  fileName: (record) => native.applianceRecordFileName(record),
  save: (record, dir) => native.applianceRecordSave(record, dir),
})

module.exports = {
  // meta
  operations: () => native.operations().map((o) => ({ ...o, nodeName: nodeName(o.name) })),
  errorKinds: () => native.errorKinds(),
  coreVersion: () => native.coreVersion(),
  ErrorCode,
  isBtDrError,
  // versions, sites, backups
  parseVersion: (text) => native.parseVersion(text),
  parseInventory: (text, format) => native.parseInventory(text, format ?? null),
  loadInventory: (path) => native.loadInventory(path),
  parseBackupName: (name) => native.parseBackupName(name),
  formatBackupName: (parts) => native.formatBackupName({ ...parts, date: dateArg(parts?.date) }),
  checkRestore: (backupVersion, siteVersion, options) =>
    native.checkRestore(backupVersion, siteVersion, options ?? null),
  checkRestoreOnto: (site, backupVersion, options) =>
    native.checkRestoreOnto(site, backupVersion, options ?? null),
  parseUpgradeTable: (text, format) => native.parseUpgradeTable(text, format ?? null),
  loadUpgradeTable: (path) => native.loadUpgradeTable(path),
  nsbCoverage: (product, options) => native.nsbCoverage(product, options?.includeLoggedHistory ?? false),
  // certificates
  checkCertificateBundle: (source, passphrase, options) =>
    native.checkCertificateBundle(source, passphrase, options ?? null),
  checkCertificatePair: (primary, backup) => native.checkCertificatePair(primary, backup),
  // records
  applianceRecord,
  vaultKeyRecord: (path, site, date, passwordProtected) =>
    native.vaultKeyRecord(path, site, dateArg(date), passwordProtected),
  // API client
  Client,
  CancelToken: native.CancelToken,
  // backup sets and retention
  runBackupSet,
  runBackupJob,
  verifyBackupSet: (path) => native.verifyBackupSet(path),
  listBackupSets: (store, site) => native.listBackupSets(store, site),
  planRetention: (store, site, policy) => native.planRetention(store, site, policy),
  applyRetention: (store, plan) => native.applyRetention(store, plan),
  // audit
  audit: (inventory, options) => native.audit(inventory, options ?? null),
  auditMarkdown: (report) => native.auditMarkdown(report),
  collectLive: (site, appliances) => native.collectLive(site, ...appliancesArg(appliances, 'appliances')),
  checkAtlasCluster: (site, appliances, options) =>
    native.checkAtlasCluster(site, ...appliancesArg(appliances, 'appliances'), options ?? null),
  healthSweep: (clients, options) =>
    native.healthSweep(clients.map(nativeClient), options?.concurrency ?? null),
  // runbook and failover
  renderRunbook: (site, options) => native.renderRunbook(site, options ?? null),
  planFailover: (site, appliances, mode, options) =>
    native.planFailover(site, ...pairArg(appliances), mode, options ?? null),
  executeFailover: (site, appliances, plan, options) =>
    native.executeFailover(site, ...pairArg(appliances), plan, options ?? null),
}

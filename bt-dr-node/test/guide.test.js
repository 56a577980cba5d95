'use strict'
// The guide, complete (issue 13) through the Node binding, against the simulator: every kind of
// Reporting API data (`downloadReport`), the leaf certificate a client saw, restoring onto a
// failover pair (`checkRestoreOnto`), backup sets that take the NSB of the pair's other
// appliance and refer to the site's reporting archive, the Atlas check, the inventory's
// thresholds, and the failover options the core parses (redirect hook, site URL, certificate
// mismatch).

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs/promises')
const os = require('node:os')
const path = require('node:path')
const bt = require('..')
const { Sim } = require('./helpers/sim')

/** @type {Sim} */
let sim
/** @type {import('..').Client} */
let primary
/** @type {import('..').Client} */
let backup
/** @type {string} */
let root

test.before(async () => {
  sim = await Sim.start(['--backup-size', '65536'])
  primary = new bt.Client(sim.clientOptions('primary'))
  backup = new bt.Client(sim.clientOptions('backup'))
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-dr-node-guide-'))
})

test.after(async () => {
  await sim?.stop()
  if (root) await fs.rm(root, { recursive: true, force: true })
})

/** @param {string} code */
const hasCode = (code) => (/** @type {any} */ e) => {
  assert.equal(e.code, code, e.message)
  return true
}

/** A fresh folder under the test root. @param {string} name */
const dirOf = async (name) => fs.mkdtemp(path.join(root, `${name}-`))

/** SHA-256 (hex) of a file. @param {string} file */
const sha256Of = async (file) => crypto.createHash('sha256').update(await fs.readFile(file)).digest('hex')

/**
 * The inventory of the simulated pair (and its Atlas traffic nodes, when given).
 * @param {Sim} s
 * @param {{ routing?: string, trafficNodes?: string[], extra?: string }} [o]
 */
function inventoryOf(s, o = {}) {
  const nodes = o.trafficNodes ?? []
  const role = nodes.length > 0 ? 'cluster_role = "primary"\n' : ''
  let toml = `${o.extra ?? ''}
[[sites]]
name = "support"
fqdn = "${s.info.site_hostname}"
product = "rs"
version = "${s.info.version}"
[[sites.appliances]]
hostname = "bt-a.example.com"
kind = "b300"
ip = "10.0.0.11"
${role}[[sites.appliances]]
hostname = "bt-b.example.com"
kind = "vmware"
ip = "10.0.0.12"
${role}`
  for (const h of nodes) toml += `[[sites.appliances]]\nhostname = "${h}"\nkind = "vmware"\ncluster_role = "traffic"\n`
  toml += `[sites.failover]
primary = "bt-a.example.com"
backup = "bt-b.example.com"
routing = "${o.routing ?? 'dns-swing'}"
`
  if (nodes.length > 0) {
    toml += `[sites.atlas]\ntraffic_nodes = [${nodes.map((h) => `{ hostname = "${h}" }`).join(', ')}]\n`
  }
  return bt.parseInventory(toml, 'toml')
}

// ---- the API client ---------------------------------------------------------------------------

test('Client.servedLeafSha256 is the leaf the appliance presented', async () => {
  const c = new bt.Client(sim.clientOptions('primary'))
  assert.equal(c.servedLeafSha256, null, 'nothing connected yet')
  await c.checkHealth()
  assert.equal(c.servedLeafSha256, sim.info.leaf_cert_sha256)
})

test('Client.downloadReport saves recordings, session reports and exit surveys', async () => {
  const sessions = await primary.listSessions({ type: 'start_time', unix: 0, seconds: 0 })
  assert.ok(sessions.length >= 3)
  const dir = await dirOf('reports')
  // A session recording: the file on disk is the one the result describes.
  /** @type {import('..').DownloadedFile | null} */
  let rec = null
  for (const s of sessions) {
    try {
      rec = await primary.downloadReport('session_recording', { type: 'lsid', lsid: s.lsid }, dir)
      break
    } catch (e) {
      hasCode('BT_DR_NOT_FOUND')(e) // a session without a recording
    }
  }
  assert.ok(rec, 'one of the sessions has a recording')
  assert.equal(path.basename(path.dirname(rec.path)), path.basename(dir))
  assert.equal(await sha256Of(rec.path), rec.sha256)
  assert.equal((await fs.stat(rec.path)).size, rec.size)

  const lsid = sessions[0].lsid
  const report = await primary.downloadReport('session_report', { type: 'lsid', lsid }, dir)
  assert.ok((await fs.readFile(report.path, 'utf8')).includes(lsid))
  assert.equal(await sha256Of(report.path), report.sha256)

  const survey = await primary.downloadReport('customer_exit_survey', { type: 'start_time', unix: 0, seconds: 0 }, dir)
  assert.equal(await sha256Of(survey.path), survey.sha256)

  // What the core refuses keeps its kind.
  await assert.rejects(
    primary.downloadReport('session_recording', { type: 'start_time', unix: 0, seconds: 0 }, dir),
    hasCode('BT_DR_INVALID_INPUT'),
  )
  await assert.rejects(
    primary.downloadReport('customer_exit_survey', { type: 'lsid', lsid }, dir),
    hasCode('BT_DR_INVALID_INPUT'),
  )
  await assert.rejects(
    primary.downloadReport(/** @type {any} */ ('screen_recording'), { type: 'lsid', lsid }, dir),
    hasCode('BT_DR_INVALID_INPUT'),
  )
  const pra = new bt.Client(sim.clientOptions('primary', { product: 'pra' }))
  await assert.rejects(
    pra.downloadReport('presentation_recording', { type: 'lsid', lsid }, dir),
    hasCode('BT_DR_INVALID_INPUT'),
  )
  const readonly = new bt.Client(
    sim.clientOptions('primary', { clientId: sim.info.readonly_client_id, clientSecret: sim.info.readonly_client_secret }),
  )
  await assert.rejects(
    readonly.downloadReport('session_report', { type: 'lsid', lsid }, dir),
    hasCode('BT_DR_PERMISSION_DENIED'),
  )
  // An aborted download leaves no file.
  const aborted = await dirOf('aborted')
  await assert.rejects(
    primary.downloadReport('session_recording', { type: 'lsid', lsid: rec.fileName.split('.')[0] }, aborted, {
      signal: AbortSignal.abort(),
    }),
    hasCode('BT_DR_CANCELLED'),
  )
  assert.deepEqual(await fs.readdir(aborted), [])
})

// ---- offline rules ----------------------------------------------------------------------------

test('checkRestoreOnto gives a failover pair the guide steps', () => {
  const [site] = inventoryOf(sim).sites
  const c = bt.checkRestoreOnto(site, sim.info.version)
  assert.equal(c.compatibility, 'supported')
  assert.equal(c.steps.length, 4)
  assert.match(c.steps[0], /Break failover/)
  assert.match(c.steps[2], /pre-shared key/)
  assert.match(c.warning ?? '', /failover pair/)

  const single = { ...site, failover: null, appliances: site.appliances?.slice(0, 1) }
  const s = bt.checkRestoreOnto(single, sim.info.version)
  assert.equal(s.compatibility, 'supported')
  assert.deepEqual(s.steps, [])

  const refused = bt.checkRestoreOnto(site, '99.1.0')
  assert.equal(refused.compatibility, 'refused')
  assert.deepEqual(refused.steps, [])
  assert.equal(bt.checkRestoreOnto(site, sim.info.version, { backupProduct: 'pra' }).compatibility, 'refused')
  assert.deepEqual(bt.checkRestore('24.1.2', '24.1.2').steps, [])

  assert.throws(() => bt.checkRestoreOnto(site, 'x.y'), hasCode('BT_DR_PARSE'))
  assert.throws(() => bt.checkRestoreOnto(/** @type {any} */ ({ name: 'x' }), '24.1.2'), hasCode('BT_DR_INVALID_INPUT'))
  assert.throws(
    () => bt.checkRestoreOnto(site, '24.1.2', /** @type {any} */ ({ siteProduct: 'rs' })),
    hasCode('BT_DR_INVALID_INPUT'),
  )
})

test('nsbCoverage names the reporting kinds a backup set archives', () => {
  const rs = bt.nsbCoverage('rs')
  const kindsOf = (/** @type {string} */ id) => rs.excluded.find((e) => e.id === id)?.reportKinds
  assert.deepEqual(kindsOf('show_my_screen_recordings'), ['show_my_screen_recording'])
  assert.deepEqual(kindsOf('presentation_recordings'), ['presentation_recording'])
  assert.deepEqual(kindsOf('logged_history'), ['session_report', 'customer_exit_survey', 'rep_exit_survey'])
  assert.deepEqual(kindsOf('certificates'), [])
  const pra = bt.nsbCoverage('pra')
  assert.ok(!pra.excluded.some((e) => e.reportKinds.includes('presentation_recording')))
})

test('the inventory carries thresholds and the Cloud certificate flags', () => {
  const inv = bt.parseInventory(
    `[thresholds]
max_backup_age_hours = 50
min_rsa_bits = 3072

[[sites]]
name = "cloud"
fqdn = "cloud.example.com"
product = "rs"
version = "24.1.2"
custom_certificate = true
`,
    'toml',
  )
  assert.equal(inv.thresholds?.maxBackupAgeHours, 50)
  assert.equal(inv.thresholds?.minRsaBits, 3072)
  assert.equal(inv.thresholds?.certificateHorizonDays, 30, 'unset values take the defaults')
  assert.equal(inv.sites[0].customCertificate, true)
  assert.equal(inv.sites[0].customTls, false)
  assert.throws(() => bt.parseInventory('[thresholds]\nmax_backup_age = 3\n', 'toml'), (/** @type {any} */ e) =>
    ['BT_DR_PARSE', 'BT_DR_INVALID_INPUT'].includes(e.code),
  )
})

// ---- backup sets ------------------------------------------------------------------------------

test('runBackupSet with otherAppliances takes both NSBs of the pair', async () => {
  const [site] = inventoryOf(sim).sites
  const store = await dirOf('store-pair')
  const r = await bt.runBackupSet(store, site, primary, {
    otherAppliances: [backup],
    reportingKinds: [],
    backupPassword: 'pair-backup-pass',
  })
  assert.equal(r.partial, false, JSON.stringify(r.manifest.parts))
  const nsbs = r.manifest.applianceNsbs ?? []
  assert.equal(nsbs.length, 2)
  assert.equal(nsbs[0].main, true)
  assert.equal(nsbs[0].role, 'primary')
  assert.equal(nsbs[0].baseUrl, sim.info.primary_url)
  assert.equal(nsbs[1].main, false)
  assert.equal(nsbs[1].role, 'backup')
  assert.equal(nsbs[1].baseUrl, sim.info.backup_url)
  assert.ok(nsbs.every((n) => n.passwordProtected))
  assert.ok(nsbs[1].file.startsWith('appliances/'))
  assert.equal(r.manifest.files.filter((f) => f.kind === 'nsb').length, 2)
  await fs.access(path.join(r.path, nsbs[1].file))
  assert.equal(r.manifest.parts.find((p) => p.part === 'appliance_nsbs')?.status, 'ok')
  assert.ok(!JSON.stringify(r).includes('pair-backup-pass'))
  assert.equal((await bt.verifyBackupSet(r.path)).ok, true)

  // Without otherAppliances the list is absent.
  const one = await bt.runBackupSet(store, site, primary, { reportingKinds: [] })
  assert.equal(one.manifest.applianceNsbs, undefined)

  // The backup appliance down: the set is kept with the primary's NSB and says what failed.
  const quick = new bt.Client(sim.clientOptions('backup', { retry: { maxAttempts: 1 } }))
  await sim.control('/appliances/1/down', { down: true })
  try {
    const p = await bt.runBackupSet(store, site, primary, { otherAppliances: [quick], reportingKinds: [] })
    assert.equal(p.partial, true)
    const part = p.manifest.parts.find((x) => x.part === 'appliance_nsbs')
    assert.equal(part?.status, 'failed')
    assert.equal(part?.error?.code, 'BT_DR_NETWORK')
  } finally {
    await sim.control('/appliances/1/down', { down: false })
  }
  assert.throws(
    () => bt.runBackupSet(store, site, primary, { otherAppliances: /** @type {any} */ ([{}]) }),
    TypeError,
  )
})

test('runBackupSet archives each reporting kind outside the set', async () => {
  const [site] = inventoryOf(sim).sites
  const store = await dirOf('store-reporting')
  const r = await bt.runBackupSet(store, site, primary, {
    reportingKinds: ['session_recording', 'command_shell_recording'],
    firstRunRecordingsDays: 30,
  })
  const m = r.manifest
  assert.equal(m.format, 3)
  assert.ok(!m.files.some((f) => f.kind === 'recording'), 'recordings are not inside the set')
  assert.ok(m.reporting.length > 0)
  assert.deepEqual(new Set(m.reporting.map((f) => f.kind)), new Set(['session_recording', 'command_shell_recording']))
  assert.deepEqual(
    m.recordings?.kinds.map((k) => [k.kind, k.status]),
    [
      ['session_recording', 'ok'],
      ['command_shell_recording', 'ok'],
    ],
  )
  for (const f of m.reporting) {
    assert.ok(f.lsid, 'per-session kinds name their session')
    assert.equal(await sha256Of(path.join(store, 'support', f.path)), f.sha256)
  }
  // Removing the set by retention keeps the archive.
  await bt.runBackupSet(store, site, primary, { recordings: false })
  const plan = await bt.planRetention(store, 'support', { keepLast: 1, keepVersions: 0 })
  assert.deepEqual(plan.remove, [r.setId])
  await bt.applyRetention(store, plan)
  for (const f of m.reporting) await fs.access(path.join(store, 'support', f.path))
})

test('backup set options are the core parser: unknown keys and wrong types are refused', async () => {
  const [site] = inventoryOf(sim).sites
  const store = await dirOf('store-options')
  for (const options of [
    { recording: false, backupPassword: 'never-echoed-pass' },
    { reportingKinds: ['screen_recording'], backupPassword: 'never-echoed-pass' },
    { backupPassword: /** @type {any} */ (['never-echoed-pass']) },
    { thresholds: { maxBackupAge: 3 } },
  ]) {
    await assert.rejects(bt.runBackupSet(store, site, primary, /** @type {any} */ (options)), (/** @type {any} */ e) => {
      hasCode('BT_DR_INVALID_INPUT')(e)
      assert.ok(!JSON.stringify({ ...e, message: e.message }).includes('never-echoed-pass'), e.message)
      return true
    })
  }
  assert.deepEqual(await bt.listBackupSets(store, 'support'), [], 'nothing was taken')
  // The inventory's thresholds reach the bundle check: a 30-year horizon sees the expiry.
  const P12 = path.join(__dirname, '..', '..', 'bt-dr-core', 'tests', 'fixtures', 'p12', 'default_chain.p12')
  const r = await bt.runBackupSet(store, site, primary, {
    recordings: false,
    certificateBundle: P12,
    certificatePassphrase: 'fixture-pass',
    thresholds: { certificateHorizonDays: 36500 },
  })
  assert.ok(
    r.manifest.certificate?.findings.some((f) => f.id.includes('expir')),
    JSON.stringify(r.manifest.certificate?.findings),
  )
})

test('runBackupJob passes otherAppliances per site', async () => {
  const inv = inventoryOf(sim)
  const store = await dirOf('store-job')
  const job = await bt.runBackupJob(store, [
    { site: inv.sites[0], client: primary, options: { otherAppliances: [backup], recordings: false } },
    { site: { ...inv.sites[0], name: 'solo' }, client: primary, options: { recordings: false } },
    { site: { ...inv.sites[0], name: 'plain' }, client: primary },
  ])
  assert.deepEqual(
    job.sites.map((s) => [s.site, s.error, s.report?.manifest.applianceNsbs?.length ?? 0]),
    [
      ['support', null, 2],
      ['solo', null, 0],
      ['plain', null, 0],
    ],
  )
  assert.throws(
    () => bt.runBackupJob(store, [{ site: inv.sites[0], client: primary, options: /** @type {any} */ ({ bogus: 1 }) }]),
    hasCode('BT_DR_INVALID_INPUT'),
  )
})

// ---- retention and audit ----------------------------------------------------------------------

test('retention keeps a set per product version; the audit reads the inventory thresholds', async () => {
  const store = await dirOf('store-audit')
  const inv = inventoryOf(sim, { extra: '[thresholds]\nmax_backup_age_hours = 1\n' })
  const set = await bt.runBackupSet(store, inv.sites[0], primary, { recordings: false })
  await bt.runBackupSet(store, inv.sites[0], primary, { recordings: false })
  await assert.rejects(bt.planRetention(store, 'support', { keepVersions: 1 }), hasCode('BT_DR_INVALID_INPUT'))
  const plan = await bt.planRetention(store, 'support', { keepWithinHours: 100, keepVersions: 1 })
  assert.ok(
    plan.keep.some((k) => k.reasons.some((r) => r === `version ${sim.info.version}`)),
    JSON.stringify(plan.keep),
  )

  const later = new Date(Date.parse(set.manifest.createdAt) + 3 * 3600 * 1000).toISOString()
  const stale = (/** @type {import('..').AuditReport} */ r) =>
    r.findings.some((f) => f.site === 'support' && f.id === 'backup_stale')
  assert.equal(stale(await bt.audit(inv, { store, now: later })), true, 'the inventory says 1 hour')
  assert.equal(stale(await bt.audit(inv, { store, now: later, maxBackupAgeHours: 48 })), false, 'the call overrides it')
  assert.equal(stale(await bt.audit(inventoryOf(sim), { store, now: later })), false, 'the default is 26 hours')
  await assert.rejects(bt.audit(inv, /** @type {any} */ ({ maxBackupAge: 3 })), hasCode('BT_DR_INVALID_INPUT'))
})

// ---- Atlas ------------------------------------------------------------------------------------

test('checkAtlasCluster samples the traffic nodes of a simulated cluster', async () => {
  const EU = 'tn-eu.example.com'
  const US = 'tn-us.example.com'
  const atlas = await Sim.start(['--traffic-node', EU, '--traffic-node', US])
  try {
    assert.equal(atlas.info.traffic_urls.length, 2)
    const [site] = inventoryOf(atlas, { trafficNodes: [EU, US] }).sites
    const client = (/** @type {string} */ url) => new bt.Client(atlas.clientOptions('primary', { baseUrl: url }))
    const appliances = [
      { hostname: 'bt-a.example.com', client: client(/** @type {string} */ (atlas.info.primary_url)) },
      { hostname: 'bt-b.example.com', client: client(/** @type {string} */ (atlas.info.backup_url)) },
      { hostname: EU, client: client(atlas.info.traffic_urls[0]) },
      { hostname: US, client: client(atlas.info.traffic_urls[1]) },
    ]
    await atlas.control('/appliances/2/connected_clients', { counts: [3, 4] })
    await atlas.control('/appliances/3/connected_clients', { counts: [5, 5] })
    const r = await bt.checkAtlasCluster(site, appliances, { sampleIntervalMs: 50 })
    assert.equal(r.site, 'support')
    assert.equal(r.sampleIntervalMs, 50)
    assert.deepEqual(r.findings, [])
    assert.deepEqual(
      r.nodes.map((n) => [n.hostname, n.role]),
      [
        ['bt-a.example.com', 'primary'],
        ['bt-b.example.com', 'primary'],
        [EU, 'traffic'],
        [US, 'traffic'],
      ],
    )
    const eu = /** @type {import('..').AtlasNode} */ (r.nodes.find((n) => n.hostname === EU))
    assert.deepEqual(eu.samples.map((s) => s.total), [3, 4])
    assert.equal(eu.trend, 'increasing')
    assert.equal(eu.listed, true)
    assert.equal(eu.listedRole, 'traffic')
    assert.equal(eu.version, atlas.info.version)
    assert.equal(r.nodes.find((n) => n.hostname === US)?.trend, 'steady')

    // The US node leaves the cluster and loses its clients.
    await atlas.control('/appliances/3/cluster', { member: false })
    await atlas.control('/appliances/3/connected_clients', { counts: [0] })
    const r2 = await bt.checkAtlasCluster(site, appliances, { sampleIntervalMs: 50 })
    const ids = r2.findings.map((f) => `${f.id} ${f.subject}`)
    assert.ok(ids.includes(`traffic_node_not_in_cluster ${US}`), ids.join('\n'))
    assert.ok(ids.includes(`traffic_node_no_clients ${US}`), ids.join('\n'))

    await assert.rejects(
      bt.checkAtlasCluster(site, appliances, /** @type {any} */ ({ sampleInterval: 50 })),
      hasCode('BT_DR_INVALID_INPUT'),
    )
    await assert.rejects(
      bt.checkAtlasCluster(site, appliances, { sampleIntervalMs: 3_600_001 }),
      hasCode('BT_DR_INVALID_INPUT'),
    )
    await assert.rejects(
      bt.checkAtlasCluster({ ...site, atlas: null }, appliances.slice(0, 2)),
      hasCode('BT_DR_INVALID_INPUT'),
    )
    await assert.rejects(
      bt.checkAtlasCluster(site, [...appliances, { hostname: 'stranger.example.com', client: primary }]),
      hasCode('BT_DR_INVALID_INPUT'),
    )
    assert.throws(() => bt.checkAtlasCluster(site, /** @type {any} */ ([{ hostname: EU, client: {} }])), TypeError)
  } finally {
    await atlas.stop()
  }
})

// ---- failover ---------------------------------------------------------------------------------

const fast = { pollIntervalMs: 50, settleTimeoutMs: 10000, redirectVerifyTimeoutMs: 5000, confirmTimeoutMs: 5000 }

/** @param {Sim} s @returns {import('..').PairAppliances} */
function pairOf(s) {
  return [
    { hostname: 'bt-a.example.com', client: new bt.Client(s.clientOptions('primary')) },
    { hostname: 'bt-b.example.com', client: new bt.Client(s.clientOptions('backup')) },
  ]
}

test('executeFailover runs the redirect command, then the role change, then confirms clients', async () => {
  const own = await Sim.start()
  try {
    const [site] = inventoryOf(own).sites
    const pair = pairOf(own)
    const envFile = path.join(await dirOf('hook'), 'env.json')
    // The hook: note what bt-dr passed, then swing the site address to the target the way a
    // DNS update would (the simulator's control API).
    const script = `
const fs = require('node:fs')
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('BT_DR_')))
fs.writeFileSync(process.argv[2], JSON.stringify(env))
fetch(process.argv[1] + '/appliances/1/take_site_address', { method: 'POST' })
  .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(2))`
    /** @type {import('..').FailoverOptions} */
    const options = {
      ...fast,
      redirect: { command: [process.execPath, '-e', script, own.info.control_url, envFile], timeoutMs: 20000 },
      siteUrl: own.info.site_url,
    }
    const plan = await bt.planFailover(site, pair, 'planned', options)
    assert.equal(plan.siteUrl, own.info.site_url)
    assert.equal(plan.certificates, 'identical')
    assert.equal(plan.from.servedLeafSha256, own.info.leaf_cert_sha256)
    assert.equal(plan.steps[0].step, 'redirect')
    assert.equal(plan.steps[plan.steps.length - 1].step, 'confirm')
    assert.ok(plan.steps[0].action.includes('redirect command'), plan.steps[0].action)
    assert.ok(!JSON.stringify(plan).includes('take_site_address'), 'the plan names the program, not its arguments')

    const t = await bt.executeFailover(site, pair, plan, options)
    assert.equal(t.outcome, 'settled', JSON.stringify(t))
    assert.equal(t.error, null)
    assert.equal(t.redirect?.method, 'command')
    assert.equal(t.redirect?.ran, true)
    assert.equal(t.redirect?.verified, true)
    assert.equal(t.confirmation?.confirmed, true, JSON.stringify(t.confirmation))
    const first = (/** @type {import('..').FailoverStep} */ step) => t.events.findIndex((e) => e.step === step)
    assert.ok(first('redirect') >= 0 && first('redirect') < first('role_change'))
    assert.ok(first('role_change') < first('confirm'))

    const env = JSON.parse(await fs.readFile(envFile, 'utf8'))
    assert.equal(env.BT_DR_SITE, 'support')
    assert.equal(env.BT_DR_FROM, 'bt-a.example.com')
    assert.equal(env.BT_DR_TO, 'bt-b.example.com')
    assert.equal(env.BT_DR_TO_IP, '10.0.0.12')
    assert.equal(env.BT_DR_ROUTING, 'dns-swing')
    assert.equal(env.BT_DR_MODE, 'planned')
    assert.equal(env.BT_DR_SITE_URL, own.info.site_url)
    const roles = (/** @type {any} */ (await own.state())).appliances.map((/** @type {any} */ a) => a.role)
    assert.deepEqual(roles, ['backup', 'primary'])
  } finally {
    await own.stop()
  }
})

test('a failing redirect command stops the failover before any role change', async () => {
  const own = await Sim.start()
  try {
    const [site] = inventoryOf(own).sites
    const pair = pairOf(own)
    /** @type {import('..').FailoverOptions} */
    const options = {
      ...fast,
      redirect: { command: [process.execPath, '-e', 'process.exit(3)', 'dns-api-key-0000'] },
      siteUrl: own.info.site_url,
    }
    const plan = await bt.planFailover(site, pair, 'planned', options)
    const t = await bt.executeFailover(site, pair, plan, options)
    assert.equal(t.outcome, 'redirect_failed', JSON.stringify(t))
    assert.equal(t.redirect?.ran, false)
    assert.ok(t.redirect?.error?.code, 'the hook failure is a typed error')
    assert.equal(t.confirmation, null)
    assert.ok(!t.events.some((e) => e.step === 'role_change'))
    assert.ok(!JSON.stringify(t).includes('dns-api-key-0000'), 'arguments are never shown')
    const roles = (/** @type {any} */ (await own.state())).appliances.map((/** @type {any} */ a) => a.role)
    assert.deepEqual(roles, ['primary', 'backup'])

    // A hook that runs but does not swing: the site URL still answers as the old primary.
    const idle = {
      ...fast,
      redirectVerifyTimeoutMs: 600,
      redirect: { command: [process.execPath, '-e', ''] },
      siteUrl: own.info.site_url,
    }
    const t2 = await bt.executeFailover(site, pair, await bt.planFailover(site, pair, 'planned', idle), idle)
    assert.equal(t2.outcome, 'redirect_mismatch', JSON.stringify(t2))
    assert.equal(t2.redirect?.answeredBy, 'bt-a.example.com')
  } finally {
    await own.stop()
  }
})

test('failover options are the core parser: unknown keys and bad hooks are refused', async () => {
  const [site] = inventoryOf(sim).sites
  const pair = pairOf(sim)
  const plan = await bt.planFailover(site, pair, 'planned')
  for (const options of [
    { redirectCommand: ['true'] },
    { redirect: { cmd: ['true'] } },
    { redirect: { command: 'swing --key dns-api-key-0000' } },
    { settleTimeoutMs: 'soon' },
  ]) {
    for (const call of [
      () => bt.planFailover(site, pair, 'planned', /** @type {any} */ (options)),
      () => bt.executeFailover(site, pair, plan, /** @type {any} */ (options)),
    ]) {
      await assert.rejects(call(), (/** @type {any} */ e) => {
        hasCode('BT_DR_INVALID_INPUT')(e)
        assert.ok(!e.message.includes('dns-api-key-0000'), e.message)
        return true
      })
    }
  }
  // The core validates the hook when planning.
  await assert.rejects(bt.planFailover(site, pair, 'planned', { redirect: { command: [] } }), (/** @type {any} */ e) => {
    hasCode('BT_DR_INVALID_INPUT')(e)
    assert.equal(e.field, 'redirect.command')
    return true
  })
  await assert.rejects(
    bt.planFailover(site, pair, 'planned', { siteUrl: 'ftp://support.example.com' }),
    hasCode('BT_DR_INVALID_INPUT'),
  )
})

test('different certificates refuse a planned failover unless forceCertificateMismatch', async () => {
  const own = await Sim.start(['--distinct-certificates'])
  try {
    assert.notEqual(own.info.leaf_cert_sha256, own.info.backup_leaf_cert_sha256)
    const [site] = inventoryOf(own).sites
    const pair = pairOf(own)
    await assert.rejects(bt.planFailover(site, pair, 'planned'), hasCode('BT_DR_REFUSED'))
    const plan = await bt.planFailover(site, pair, 'planned', { forceCertificateMismatch: true })
    assert.equal(plan.certificates, 'different')
    assert.equal(plan.from.servedLeafSha256, own.info.leaf_cert_sha256)
    assert.equal(plan.to.servedLeafSha256, own.info.backup_leaf_cert_sha256)
    assert.ok(plan.warnings.length > 0)
    await assert.rejects(bt.executeFailover(site, pair, plan, fast), hasCode('BT_DR_REFUSED'))
  } finally {
    await own.stop()
  }
})

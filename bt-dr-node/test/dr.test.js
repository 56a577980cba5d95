'use strict'
// DR operations against a simulated failover pair: backup sets (run, job, verify, list),
// retention, audit with live state, runbook, failover plan and execution.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs/promises')
const os = require('node:os')
const path = require('node:path')
const bt = require('..')
const { Sim, ROOT } = require('./helpers/sim')

/** @type {Sim} */
let sim
/** @type {import('..').Client} */
let primary
/** @type {import('..').Client} */
let backup
/** @type {string} */
let root
/** @type {string} */
let store
/** @type {import('..').Inventory} */
let inventory
/** @type {import('..').Site} */
let site
/** @type {import('..').BackupSetOptions} */
let setOptions

const P12 = path.join(ROOT, 'bt-dr-core', 'tests', 'fixtures', 'p12', 'default_chain.p12')

test.before(async () => {
  sim = await Sim.start(['--backup-size', '262144'])
  primary = new bt.Client(sim.clientOptions('primary'))
  backup = new bt.Client(sim.clientOptions('backup'))
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-dr-node-dr-'))
  store = path.join(root, 'store')
  inventory = bt.parseInventory(
    `
[[sites]]
name = "support"
fqdn = "${sim.info.site_hostname}"
product = "rs"
version = "${sim.info.version}"
[[sites.appliances]]
hostname = "bt-a.example.com"
kind = "b300"
[[sites.appliances]]
hostname = "bt-b.example.com"
kind = "vmware"
[sites.failover]
primary = "bt-a.example.com"
backup = "bt-b.example.com"
routing = "dns-swing"

[[sites]]
name = "lab"
fqdn = "lab.example.com"
product = "rs"
version = "${sim.info.version}"
`,
    'toml',
  )
  site = inventory.sites[0]
  const records = []
  for (const host of ['bt-a.example.com', 'bt-b.example.com']) {
    const p = path.join(root, `${host}.toml`)
    await fs.writeFile(
      p,
      `[identity]\nhostname = "${host}"\nappliance_version = "${sim.info.version}"\nserial = "SN-${host}"\nbase_version = "7.2.1"\nsystem_time = "2026-11-20T02:00:00Z"\n`,
    )
    records.push(p)
  }
  const key = path.join(root, 'vault.key')
  await fs.writeFile(key, 'password-protected vault key (simulated)')
  setOptions = {
    certificateBundle: P12,
    certificatePassphrase: 'fixture-pass',
    applianceRecords: records,
    vaultKey: { path: key, passwordProtected: true },
  }
})

test.after(async () => {
  await sim?.stop()
  if (root) await fs.rm(root, { recursive: true, force: true })
})

test.afterEach(() => sim.control('/appliances/0/clear_faults'))

/** @param {string} code */
const hasCode = (code) => (/** @type {any} */ e) => {
  assert.equal(e.code, code, e.message)
  return true
}

test('runBackupSet, listBackupSets, verifyBackupSet', async () => {
  /** @type {import('..').ProgressEvent[]} */
  const events = []
  const r = await bt.runBackupSet(store, site, primary, { ...setOptions, onProgress: (e) => events.push(e) })
  assert.equal(r.site, 'support')
  assert.equal(r.path, path.join(await fs.realpath(store), 'support', 'sets', r.setId))
  const m = r.manifest
  assert.equal(m.site, 'support')
  assert.equal(m.product, 'rs')
  assert.equal(m.format, 3)
  const kinds = new Set(m.files.map((f) => f.kind))
  for (const k of ['nsb', 'sidecar', 'certificate_bundle', 'appliance_record', 'vault_key', 'vault_key_record']) {
    assert.ok(kinds.has(/** @type {any} */ (k)), `manifest lists a ${k}`)
  }
  // Recordings live in the site's reporting archive, which the manifest refers to.
  assert.ok(!kinds.has('recording'), 'no recording inside the set')
  const recordings = m.reporting.filter((f) => f.kind === 'session_recording')
  assert.equal(recordings.length, 3)
  assert.equal(m.recordings?.count, m.reporting.length)
  assert.equal(m.recordings?.kinds.find((k) => k.kind === 'session_recording')?.count, 3)
  for (const f of m.reporting) {
    assert.ok(f.path.startsWith(`reporting/${f.kind}/`), f.path)
    const bytes = await fs.readFile(path.join(store, 'support', f.path))
    assert.equal(bytes.length, f.size)
  }
  assert.equal(m.applianceRecords.length, 2)
  assert.match(m.vaultKey?.date ?? '', /^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD')
  assert.ok(m.certificate?.leafSha256)
  assert.ok(m.notCovered.length > 0)
  assert.ok(!JSON.stringify(r).includes('fixture-pass'), 'the passphrase is not in the report')
  assert.ok(events.length >= 1 && events[events.length - 1].done === 262144)

  const sets = await bt.listBackupSets(store, 'support')
  assert.equal(sets.length, 1)
  assert.equal(sets[0].id, r.setId)
  assert.deepEqual(sets[0].manifest, m)

  const v = await bt.verifyBackupSet(r.path)
  assert.equal(v.ok, true)
  assert.equal(v.filesChecked, m.files.length + m.reporting.length)
  assert.deepEqual(v.problems, [])

  // tamper with a copy and verify again
  const copy = path.join(root, 'tampered')
  await fs.cp(r.path, copy, { recursive: true })
  const nsb = m.files.find((f) => f.kind === 'nsb')
  await fs.appendFile(path.join(copy, /** @type {any} */ (nsb).path), 'x')
  const bad = await bt.verifyBackupSet(copy)
  assert.equal(bad.ok, false)
  assert.ok(bad.problems.some((p) => p.problem === 'size_mismatch' || p.problem === 'hash_mismatch'))
  await assert.rejects(bt.verifyBackupSet(path.join(root, 'nope')), hasCode('BT_DR_NOT_FOUND'))
})

test('cancelling a backup set keeps nothing of it', async () => {
  const s2 = path.join(root, 'store-cancel')
  await sim.control('/appliances/0/fault', { endpoint: 'backup', fault: 'slow_body', value: 32768 })
  const controller = new AbortController()
  await assert.rejects(
    bt.runBackupSet(s2, site, primary, { signal: controller.signal, onProgress: () => controller.abort() }),
    hasCode('BT_DR_CANCELLED'),
  )
  assert.deepEqual(await bt.listBackupSets(s2, 'support'), [])
  const setsDir = path.join(s2, 'support', 'sets')
  const left = await fs.readdir(setsDir).catch(() => [])
  assert.deepEqual(left, [], 'no partial set folder')
})

test('runBackupJob: one site fails, the other succeeds', async () => {
  const wrong = new bt.Client(sim.clientOptions('primary', { clientSecret: 'wrong-secret-123', siteName: 'lab' }))
  /** @type {import('..').JobProgressEvent[]} */
  const events = []
  const job = await bt.runBackupJob(
    store,
    [
      { site, client: primary, options: { recordings: false } },
      { site: inventory.sites[1], client: wrong },
    ],
    { concurrency: 2, onProgress: (e) => events.push(e) },
  )
  assert.equal(job.sites.length, 2)
  const [ok, failed] = job.sites
  assert.equal(ok.site, 'support')
  assert.equal(ok.error, null)
  assert.equal(ok.report?.manifest.recordings, null)
  assert.equal(failed.site, 'lab')
  assert.equal(failed.report, null)
  assert.equal(failed.error?.code, 'BT_DR_AUTH')
  assert.equal(failed.error?.kind, 'auth')
  // The core's ErrorReport: the error's fields are under `details`.
  assert.equal(failed.error?.details.kind, 'auth')
  assert.equal(typeof failed.error?.message, 'string')
  assert.ok(!JSON.stringify(job).includes('wrong-secret-123'))
  assert.ok(events.some((e) => e.site === 'support'))
  assert.equal(typeof ok.elapsedMs, 'number')
})

test('planRetention and applyRetention', async () => {
  const before = await bt.listBackupSets(store, 'support')
  assert.ok(before.length >= 2)
  const plan = await bt.planRetention(store, 'support', { keepLast: 1 })
  assert.equal(plan.site, 'support')
  assert.equal(plan.keep.length, 1)
  assert.equal(plan.keep[0].id, before[0].id)
  assert.ok(plan.keep[0].reasons.length >= 1)
  assert.deepEqual(plan.remove, before.slice(1).map((s) => s.id))
  await assert.rejects(bt.planRetention(store, 'support', {}), hasCode('BT_DR_INVALID_INPUT'))
  await assert.rejects(
    bt.applyRetention(store, { site: 'support', keep: [], remove: [before[0].id] }),
    hasCode('BT_DR_REFUSED'),
  )
  const removed = await bt.applyRetention(store, plan)
  assert.deepEqual(removed, plan.remove)
  assert.equal((await bt.listBackupSets(store, 'support')).length, 1)
})

test('audit with store and live state; auditMarkdown; healthSweep', async () => {
  const live = await bt.collectLive('support', [
    { hostname: 'bt-a.example.com', client: primary },
    { hostname: 'bt-b.example.com', client: backup },
  ])
  assert.equal(live.site, 'support')
  assert.equal(live.appliances.length, 2)
  assert.equal(live.appliances[0].health?.failoverRole, 'primary')
  assert.equal(live.appliances[0].servedCertSha256, sim.info.leaf_cert_sha256)

  const report = await bt.audit(inventory, { store, live: [live] })
  assert.equal(report.schema, 'bt-dr.audit/1')
  assert.deepEqual(report.sites, ['support', 'lab'])
  assert.ok(report.findings.some((f) => f.site === 'lab' && f.id === 'no_backup'))
  assert.ok(!report.findings.some((f) => f.site === 'support' && f.severity === 'critical'), JSON.stringify(report.findings))
  const total = report.summary.critical + report.summary.error + report.summary.warning + report.summary.info
  assert.equal(total, report.findings.length)
  const md = bt.auditMarkdown(report)
  assert.match(md, /^# bt-dr readiness audit/)
  assert.match(md, /## lab/)
  // The core's view: `worst` is the most severe finding (findings come most severe first), and
  // the Markdown of the view is the Markdown of the report without it.
  assert.ok(report.findings.length > 0)
  assert.equal(report.worst, report.findings[0].severity)
  const order = ['info', 'warning', 'error', 'critical']
  const max = Math.max(...report.findings.map((f) => order.indexOf(f.severity)))
  assert.equal(report.worst, order[max])
  const { worst, ...bareReport } = report
  assert.equal(bt.auditMarkdown(/** @type {any} */ (bareReport)), md)
  assert.equal(bt.auditMarkdown({ ...report, worst: 'info' }), md, 'worst is not read back')
  const clean = await bt.audit({ sites: [] })
  assert.deepEqual(clean.findings, [])
  assert.equal(clean.worst, null)

  const offline = await bt.audit(inventory)
  assert.ok(!offline.findings.some((f) => f.id === 'no_backup'), 'store rules are skipped without a store')

  await sim.control('/appliances/1/down', { down: true })
  const quickBackup = new bt.Client(sim.clientOptions('backup', { retry: { maxAttempts: 1 } }))
  const sweep = await bt.healthSweep([primary, quickBackup], { concurrency: 2 })
  await sim.control('/appliances/1/down', { down: false })
  assert.equal(sweep.length, 2)
  assert.equal(sweep[0].health?.hostname, 'bt-a.example.com')
  assert.equal(sweep[0].error, null)
  assert.equal(sweep[1].health, null)
  assert.equal(sweep[1].error?.code, 'BT_DR_NETWORK')
  assert.equal(sweep[1].error?.kind, 'network')
  assert.equal(sweep[1].error?.details.kind, 'network')
  assert.deepEqual(Object.keys(sweep[1].error ?? {}).sort(), ['code', 'details', 'kind', 'message'])
})

test('renderRunbook', async () => {
  const md = await bt.renderRunbook(site, { store })
  assert.match(md, /^# Recovery runbook: support\.example\.com/)
  assert.ok(md.includes('bt-a.example.com'))
  const bare = await bt.renderRunbook(site)
  assert.ok(bare.length > 0)
  await assert.rejects(bt.renderRunbook(/** @type {any} */ ({ name: 'x' })), hasCode('BT_DR_INVALID_INPUT'))
})

test('planFailover and executeFailover', async () => {
  /** @type {import('..').PairAppliances} */
  const pair = [
    { hostname: 'bt-a.example.com', client: primary },
    { hostname: 'bt-b.example.com', client: backup },
  ]
  await assert.rejects(bt.planFailover(site, pair, 'unplanned'), hasCode('BT_DR_REFUSED'))
  await assert.rejects(bt.planFailover(inventory.sites[1], pair, 'planned'), hasCode('BT_DR_INVALID_INPUT'))
  const plan = await bt.planFailover(site, pair, 'planned')
  assert.equal(plan.mode, 'planned')
  assert.equal(plan.from.hostname, 'bt-a.example.com')
  assert.equal(plan.to.hostname, 'bt-b.example.com')
  assert.equal(plan.from.role, 'primary')
  assert.ok(plan.steps.length > 0)
  const timeline = await bt.executeFailover(site, pair, plan, { pollIntervalMs: 100, settleTimeoutMs: 20000 })
  assert.equal(timeline.outcome, 'settled')
  assert.ok(timeline.events.length >= 2)
  assert.equal((await backup.checkHealth()).failoverRole, 'primary')
  assert.equal((await primary.checkHealth()).failoverRole, 'backup')
  // the same plan again is refused: the roles moved
  await assert.rejects(bt.executeFailover(site, pair, plan), hasCode('BT_DR_REFUSED'))
})

test('planFailover forceUnknown and executeFailover forceUnknown/demoteOldPrimary', async () => {
  // A fresh pair: the primary is up and serving but rejects our credentials, so its state is
  // unknown (not unreachable): an unplanned failover needs forceUnknown, at planning and again
  // at execution (which plans afresh).
  const own = await Sim.start()
  try {
    const quick = { retry: { maxAttempts: 1, initialBackoffMs: 10, maxTotalMs: 1000 } }
    const a = new bt.Client(own.clientOptions('primary', { ...quick, clientSecret: 'wrong-secret' }))
    const b = new bt.Client(own.clientOptions('backup', quick))
    /** @type {import('..').PairAppliances} */
    const pair = [
      { hostname: 'bt-a.example.com', client: a },
      { hostname: 'bt-b.example.com', client: b },
    ]
    const ownSite = { ...site, fqdn: own.info.site_hostname }
    await assert.rejects(bt.planFailover(ownSite, pair, 'unplanned'), hasCode('BT_DR_REFUSED'))
    await assert.rejects(bt.planFailover(ownSite, pair, 'unplanned', { forceUnknown: false }), hasCode('BT_DR_REFUSED'))
    await assert.rejects(
      bt.planFailover(ownSite, pair, 'unplanned', /** @type {any} */ ({ force: true })),
      hasCode('BT_DR_INVALID_INPUT'),
    )
    const plan = await bt.planFailover(ownSite, pair, 'unplanned', { forceUnknown: true })
    assert.equal(plan.from.hostname, 'bt-a.example.com')
    assert.equal(plan.from.reachability, 'unknown')
    assert.equal(plan.from.reachable, false)
    assert.equal(plan.from.error?.kind, 'auth')
    assert.equal(plan.from.error?.code, 'BT_DR_AUTH')
    assert.equal(typeof plan.from.error?.details, 'object')
    assert.ok('probeStatus' in plan.from && 'probeError' in plan.from)
    assert.equal(plan.to.reachability, 'reachable')
    assert.equal(plan.to.error, null)
    assert.ok(plan.warnings.some((w) => w.includes('force_unknown')), plan.warnings.join('\n'))
    const fast = { pollIntervalMs: 50, settleTimeoutMs: 5000 }
    await assert.rejects(bt.executeFailover(ownSite, pair, plan, fast), hasCode('BT_DR_REFUSED'))
    assert.deepEqual((/** @type {any} */ (await own.state())).appliances.map((/** @type {any} */ x) => x.role), ['primary', 'backup'])
    const t = await bt.executeFailover(ownSite, pair, plan, { ...fast, forceUnknown: true, demoteOldPrimary: false })
    assert.ok(!t.events.some((e) => e.event.includes('demoted')), JSON.stringify(t))
    // bt-b promoted; bt-dr demoted nothing by itself (the simulated pair moves a connected old
    // primary to backup on its own).
    assert.equal((/** @type {any} */ (await own.state())).appliances[1].role, 'primary')
  } finally {
    await own.stop()
  }
})

for (const demote of [false, true]) {
  test(`executeFailover demoteOldPrimary: ${demote}`, async () => {
    // The old primary is down at promotion and back (still primary) before the first poll:
    // both are primary in the settle loop. Only demoteOldPrimary lets bt-dr demote it.
    const own = await Sim.start()
    /** @type {NodeJS.Timeout | undefined} */
    let timer
    try {
      const a = new bt.Client(own.clientOptions('primary', { retry: { initialBackoffMs: 400, maxBackoffMs: 400, maxAttempts: 3 } }))
      const b = new bt.Client(own.clientOptions('backup', { retry: { initialBackoffMs: 20, maxBackoffMs: 100 } }))
      /** @type {import('..').PairAppliances} */
      const pair = [
        { hostname: 'bt-a.example.com', client: a },
        { hostname: 'bt-b.example.com', client: b },
      ]
      const ownSite = { ...site, fqdn: own.info.site_hostname }
      await own.control('/appliances/0/down', { down: true })
      const plan = await bt.planFailover(ownSite, pair, 'unplanned')
      assert.equal(plan.from.reachability, 'unreachable')
      let busy = false
      timer = setInterval(async () => {
        if (busy) return
        busy = true
        const st = /** @type {any} */ (await own.state())
        if (st.appliances[1].role === 'primary') {
          clearInterval(timer)
          await own.control('/appliances/0/down', { down: false })
        }
        busy = false
      }, 2)
      const t = await bt.executeFailover(ownSite, pair, plan, { settleTimeoutMs: 1500, pollIntervalMs: 50, demoteOldPrimary: demote })
      clearInterval(timer)
      const demoted = t.events.filter((e) => e.event.includes('demoted'))
      const roles = (/** @type {any} */ (await own.state())).appliances.map((/** @type {any} */ x) => x.role)
      if (demote) {
        assert.equal(t.outcome, 'settled', JSON.stringify(t))
        assert.ok(demoted.length > 0 && demoted[0].event.startsWith('bt-a.example.com'), JSON.stringify(t))
        assert.deepEqual(roles, ['backup', 'primary'])
      } else {
        assert.equal(t.outcome, 'split_brain', JSON.stringify(t))
        assert.deepEqual(demoted, [])
        assert.deepEqual(roles, ['primary', 'primary'])
      }
    } finally {
      clearInterval(timer)
      await own.stop()
    }
  })
}

test('DR functions reject what is not a client', () => {
  assert.throws(() => bt.runBackupSet(store, site, /** @type {any} */ ({})), TypeError)
  assert.throws(() => bt.planFailover(site, /** @type {any} */ ([]), 'planned'), TypeError)
})

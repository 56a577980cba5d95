'use strict'
// Every API client operation against the simulator (a failover pair).

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs/promises')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const bt = require('..')
const { Sim } = require('./helpers/sim')

/** @type {Sim} */
let sim
/** @type {import('..').Client} */
let client
/** @type {string} */
let dir

test.before(async () => {
  sim = await Sim.start()
  client = new bt.Client(sim.clientOptions())
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-dr-node-client-'))
})

test.after(async () => {
  await sim?.stop()
  if (dir) await fs.rm(dir, { recursive: true, force: true })
})

/** @param {string} file */
async function sha256(file) {
  return crypto.createHash('sha256').update(await fs.readFile(file)).digest('hex')
}

test('client properties', () => {
  assert.equal(client.baseUrl, sim.info.primary_url)
  assert.equal(client.host, '127.0.0.1')
  assert.equal(client.product, 'rs')
})

test('checkHealth', async () => {
  const h = await client.checkHealth()
  assert.deepEqual(Object.keys(h).sort(), [
    'applianceId',
    'enabledSharedIps',
    'errorMessage',
    'failoverRole',
    'hostname',
    'lastDataSyncStatus',
    'lastDataSyncTime',
    'success',
    'version',
  ])
  assert.equal(h.hostname, 'bt-a.example.com')
  assert.equal(h.success, true)
  assert.equal(h.failoverRole, 'primary')
  assert.equal(bt.parseVersion(h.version).release, sim.info.version)
  assert.deepEqual(JSON.parse(JSON.stringify(h)), h)
})

test('probeHealth', async () => {
  assert.deepEqual(await client.probeHealth(), {
    healthy: true,
    status: 200,
    message: 'OK',
    peerCertificateSha256: sim.info.leaf_cert_sha256,
  })
  await sim.control('/appliances/0/health', { success: false, error_message: 'disk' })
  const p = await client.probeHealth()
  assert.equal(p.healthy, false)
  assert.equal(p.status, 500)
  await sim.control('/appliances/0/health', { success: true })
})

test('getApiInfo', async () => {
  const i = await client.getApiInfo()
  assert.equal(i.apiVersion, '1.24.0')
  assert.equal(i.permissions.command, 'full_access')
  assert.equal(i.permissions.backup, true)
  assert.equal(i.permissions.raw.perm_command, 'full_access')
  assert.equal(typeof i.timestamp, 'number')
})

test('getAppliances', async () => {
  const list = await client.getAppliances()
  assert.ok(list.length >= 1)
  const a = list[0]
  assert.equal(typeof a.id, 'string')
  assert.ok(['single', 'primary', 'traffic'].includes(a.clusterRole))
  assert.equal(typeof a.acceptingConnections, 'boolean')
})

test('getConnectedClients', async () => {
  const list = await client.getConnectedClients()
  assert.equal(list.length, 6)
  assert.ok(list.some((c) => c.clientType === 'representative'))
})

test('downloadBackup with progress and a sidecar', async () => {
  /** @type {import('..').ProgressEvent[]} */
  const events = []
  const b = await client.downloadBackup(dir, { onProgress: (e) => events.push(e) })
  assert.match(b.file.fileName, /^bomgar-24\.1\.2-support-.*\.nsb$/)
  assert.equal(b.file.path, path.join(dir, b.file.fileName))
  assert.equal(b.file.size, 1 << 20)
  assert.equal(b.file.sha256, await sha256(b.file.path))
  assert.equal(b.sidecar.sha256, b.file.sha256)
  assert.equal(b.sidecar.passwordProtected, false)
  assert.equal(b.sidecar.sourceHost, '127.0.0.1')
  assert.equal(b.sidecar.product, 'rs')
  const onDisk = JSON.parse(await fs.readFile(b.sidecarPath, 'utf8'))
  assert.equal(onDisk.sha256, b.file.sha256)
  assert.ok(events.length >= 1, 'progress was reported')
  const last = events[events.length - 1]
  assert.deepEqual(last, { done: 1 << 20, total: 1 << 20 })
  for (let i = 1; i < events.length; i++) assert.ok(events[i].done >= events[i - 1].done)

  const p = await client.downloadBackup(dir, { password: 'backup-pw-not-set-on-sim' })
  assert.equal(p.sidecar.passwordProtected, true)
  assert.ok(!JSON.stringify(p).includes('backup-pw-not-set-on-sim'))
})

test('listSessions, getSession, downloadRecording', async () => {
  const sessions = await client.listSessions({ type: 'start_time', unix: 0, seconds: 0 })
  assert.equal(sessions.length, 3)
  const lsid = sessions[0].lsid
  const s = await client.getSession(lsid)
  assert.equal(s.lsid, lsid)
  assert.equal(s.sessionType, 'support')
  assert.equal(s.primaryRep, 'Rep 1')
  assert.ok(s.recordingUrl?.includes(lsid))
  const byLsid = await client.listSessions({ type: 'start_date', date: '2000-01-01', days: 0 })
  assert.equal(byLsid.length, 3)

  /** @type {number[]} */
  const seen = []
  const rec = await client.downloadRecording(lsid, dir, { onProgress: (e) => seen.push(e.done) })
  assert.equal(rec.fileName, `${lsid}.flv`)
  assert.equal(rec.size, 64 * 1024)
  assert.equal(rec.sha256, await sha256(rec.path))
  assert.ok(seen.length >= 1)
  const head = await fs.readFile(rec.path)
  assert.equal(head.subarray(0, 3).toString(), 'FLV')
})

test('listArchives and downloadArchive', async () => {
  const today = new Date()
  const list = await client.listArchives(today)
  assert.ok(list.length >= 2, JSON.stringify(list))
  const state = list.find((a) => a.kind === 'state')
  const event = list.find((a) => a.kind === 'event')
  assert.ok(state && event)
  assert.equal(typeof state.start, 'string')
  const f = await client.downloadArchive('state', today, state.index, dir)
  assert.match(f.fileName, /^archive-state-\d{4}-\d{2}-\d{2}-\d+\.json\.gz$/)
  const json = JSON.parse(zlib.gunzipSync(await fs.readFile(f.path)).toString())
  assert.ok('representative' in json)
  const e = await client.downloadArchive('event', today.toISOString().slice(0, 10), event.index, dir)
  assert.ok(e.size > 0)
  assert.deepEqual(await client.listArchives('2000-01-01'), [])
})

test('setFailoverRole swaps the pair', async () => {
  const backup = new bt.Client(sim.clientOptions('backup'))
  assert.equal((await backup.checkHealth()).failoverRole, 'backup')
  const same = await client.setFailoverRole('primary')
  assert.equal(same.syncStarted, false)
  const r = await backup.setFailoverRole('primary')
  assert.equal(r.syncStarted, false)
  assert.match(r.message, /Successfully/)
  assert.equal((await backup.checkHealth()).failoverRole, 'primary')
  assert.equal((await client.checkHealth()).failoverRole, 'backup')
  const back = await client.setFailoverRole('primary', { dataSyncFirst: true })
  assert.equal(back.syncStarted, true)
  // @ts-expect-error: not a role
  await assert.rejects(client.setFailoverRole('boss'), (/** @type {any} */ e) => e.code === 'BT_DR_INVALID_INPUT')
})

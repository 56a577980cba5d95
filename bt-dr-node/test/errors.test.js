'use strict'
// Errors from the API client: each core kind arrives as `error.code` with its details, and no
// secret shows in a message, a property or an inspected client.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs/promises')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const bt = require('..')
const { Sim } = require('./helpers/sim')

/** @type {Sim} */
let sim
/** @type {string} */
let dir

test.before(async () => {
  sim = await Sim.start(['--backup-size', '65536'])
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-dr-node-errors-'))
})

test.after(async () => {
  await sim?.stop()
  if (dir) await fs.rm(dir, { recursive: true, force: true })
})

test.afterEach(async () => {
  await sim.control('/appliances/0/clear_faults')
  await sim.control('/appliances/0/down', { down: false })
})

/**
 * @param {string} code
 * @param {(e: any) => void} [more]
 */
const rejectsWith = (code, more) => (/** @type {any} */ e) => {
  assert.ok(bt.isBtDrError(e), `expected a BtDrError, got ${util.inspect(e)}`)
  assert.equal(e.code, code, e.message)
  assert.equal(e.kind, code.slice('BT_DR_'.length).toLowerCase())
  assert.ok(e instanceof Error)
  assert.ok(typeof e.stack === 'string')
  for (const v of [e.message, JSON.stringify(e), util.inspect(e)]) {
    assert.ok(!v.includes(sim.info.client_secret), 'the client secret leaked')
  }
  more?.(e)
  return true
}

/** @param {object} [extra] */
const quick = (extra = {}) =>
  new bt.Client(sim.clientOptions('primary', { retry: { maxAttempts: 1, initialBackoffMs: 10, maxTotalMs: 500, maxRateLimitWaits: 1, maxRetryAfterMs: 50 }, ...extra }))

test('BT_DR_AUTH: wrong client secret', async () => {
  const c = new bt.Client(sim.clientOptions('primary', { clientSecret: 'not-the-secret-42' }))
  await assert.rejects(c.checkHealth(), rejectsWith('BT_DR_AUTH', (e) => {
    assert.ok(!e.message.includes('not-the-secret-42'))
  }))
  assert.ok(!util.inspect(c).includes('not-the-secret-42'))
  assert.ok(!util.inspect(new bt.Client(sim.clientOptions())).includes(sim.info.client_secret))
})

test('BT_DR_TLS: unknown CA, wrong pin, plain http', async () => {
  const noCa = new bt.Client({ ...sim.clientOptions(), caPem: undefined, onlyExtraCa: false })
  await assert.rejects(noCa.checkHealth(), rejectsWith('BT_DR_TLS'))
  const pinned = quick({ pinSha256: '00'.repeat(32) })
  await assert.rejects(pinned.checkHealth(), rejectsWith('BT_DR_TLS'))
  const right = quick({ pinSha256: sim.info.leaf_cert_sha256 })
  assert.equal((await right.checkHealth()).success, true)
  assert.throws(
    () => new bt.Client({ ...sim.clientOptions(), baseUrl: sim.info.primary_url.replace('https:', 'http:') }),
    rejectsWith('BT_DR_TLS'),
  )
})

test('BT_DR_INVALID_INPUT: bad options and arguments', async () => {
  assert.throws(() => new bt.Client({ ...sim.clientOptions(), baseUrl: 'not a url' }), rejectsWith('BT_DR_INVALID_INPUT', (e) => {
    assert.equal(e.field, 'base_url')
  }))
  assert.throws(() => quick({ pinSha256: 'xyz' }), rejectsWith('BT_DR_INVALID_INPUT'))
  assert.throws(() => quick({ product: /** @type {any} */ ('zz') }), rejectsWith('BT_DR_INVALID_INPUT'))
  const c = quick()
  await assert.rejects(c.getSession('not a lsid!'), rejectsWith('BT_DR_INVALID_INPUT', (e) => assert.equal(e.field, 'lsid')))
  await assert.rejects(c.listSessions({ type: 'lsids', lsids: ['a'] }), rejectsWith('BT_DR_INVALID_INPUT'))
  await assert.rejects(c.listSessions(/** @type {any} */ ({ type: 'yesterday' })), rejectsWith('BT_DR_INVALID_INPUT'))
  // The window is the core's TimeWindow read through serde_json: a date must be YYYY-MM-DD.
  await assert.rejects(
    c.listSessions({ type: 'start_date', date: '20/11/2026', days: 0 }),
    rejectsWith('BT_DR_INVALID_INPUT', (e) => assert.equal(e.field, 'window')),
  )
  await assert.rejects(c.listArchives('01/02/2026'), rejectsWith('BT_DR_INVALID_INPUT'))
})

test('BT_DR_RATE_LIMITED carries retryAfterMs', async () => {
  await sim.control('/appliances/0/fault', { endpoint: 'command', fault: 'rate_limited', value: 1 })
  await assert.rejects(quick().checkHealth(), rejectsWith('BT_DR_RATE_LIMITED', (e) => {
    assert.equal(e.retryAfterMs, 1000)
  }))
})

test('BT_DR_API carries the appliance message and HTTP status', async () => {
  await sim.control('/appliances/0/fault', { endpoint: 'command', fault: 'xml_error', value: 'Something broke' })
  await assert.rejects(quick().getAppliances(), rejectsWith('BT_DR_API', (e) => {
    assert.equal(e.applianceMessage, 'Something broke')
    assert.equal(e.httpStatus, null)
  }))
  await sim.control('/appliances/0/clear_faults')
  await sim.control('/appliances/0/fault', { endpoint: 'command', fault: 'server_error', value: 503 })
  await assert.rejects(quick().getAppliances(), rejectsWith('BT_DR_API', (e) => {
    assert.equal(e.httpStatus, 503)
  }))
})

test('error.details is the core details object, typed in index.d.ts', async () => {
  await sim.control('/appliances/0/fault', { endpoint: 'command', fault: 'server_error', value: 503 })
  /** @type {unknown} */
  let caught = null
  try {
    await quick().getAppliances()
  } catch (e) {
    caught = e
  }
  assert.ok(bt.isBtDrError(caught))
  // Declared on BtDrError (no cast): the same snake_case object Python and C report.
  /** @type {Record<string, unknown>} */
  const details = caught.details
  assert.equal(details.kind, 'api')
  assert.equal(details.http_status, 503)
  assert.equal(details.message, caught.message)
  assert.equal(caught.httpStatus, details.http_status, 'the camelCase property mirrors it')
})

test('BT_DR_PARSE: malformed XML', async () => {
  await sim.control('/appliances/0/fault', { endpoint: 'command', fault: 'malformed_xml' })
  await assert.rejects(quick().checkHealth(), rejectsWith('BT_DR_PARSE'))
})

test('BT_DR_INTEGRITY: an HTML page instead of the backup, and nothing saved', async () => {
  const out = await fs.mkdtemp(path.join(dir, 'integrity-'))
  await sim.control('/appliances/0/fault', { endpoint: 'backup', fault: 'html_page' })
  await assert.rejects(quick().downloadBackup(out), rejectsWith('BT_DR_INTEGRITY', (e) => {
    assert.equal(typeof e.subject, 'string')
  }))
  assert.deepEqual(await fs.readdir(out), [])
})

test('BT_DR_NOT_FOUND: no archive for that day', async () => {
  await assert.rejects(quick().downloadArchive('state', '2000-01-01', 1, dir), rejectsWith('BT_DR_NOT_FOUND'))
})

test('BT_DR_NETWORK: the appliance is down', async () => {
  await sim.control('/appliances/0/down', { down: true })
  await assert.rejects(quick().checkHealth(), rejectsWith('BT_DR_NETWORK'))
})

test('BT_DR_TIMEOUT: the appliance answers too late', async () => {
  await sim.control('/appliances/0/fault', { endpoint: 'command', fault: 'delay', value: 3000 })
  await assert.rejects(quick({ requestTimeoutMs: 300 }).checkHealth(), rejectsWith('BT_DR_TIMEOUT', (e) => {
    assert.equal(typeof e.message, 'string')
  }))
})

test('BT_DR_IO: the download folder cannot be created', async () => {
  const blocker = path.join(dir, 'file-not-folder')
  await fs.writeFile(blocker, 'x')
  await assert.rejects(quick().downloadBackup(path.join(blocker, 'sub')), rejectsWith('BT_DR_IO', (e) => {
    assert.equal(typeof e.path, 'string')
  }))
})

test('BT_DR_PERMISSION_DENIED: names the permission a read-only account lacks', async () => {
  const c = new bt.Client(
    sim.clientOptions('primary', { clientId: sim.info.readonly_client_id, clientSecret: sim.info.readonly_client_secret }),
  )
  const own = await fs.mkdtemp(path.join(dir, 'perm-'))
  // Reads are allowed; a backup and a role change are not.
  assert.equal((await c.checkHealth()).success, true)
  await assert.rejects(c.downloadBackup(own), rejectsWith('BT_DR_PERMISSION_DENIED', (e) => {
    assert.equal(e.permission, 'perm_backup')
    assert.equal(e.operation, 'download_backup')
  }))
  await assert.rejects(c.setFailoverRole('backup'), rejectsWith('BT_DR_PERMISSION_DENIED', (e) => {
    assert.equal(e.permission, 'perm_command')
  }))
  assert.deepEqual(await fs.readdir(own), [])
})

'use strict'
// Cancellation: an AbortSignal stops a download and leaves no file behind (no partial data,
// no temporary file, no sidecar). The simulator's slow_body fault keeps the body trickling.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs/promises')
const os = require('node:os')
const path = require('node:path')
const bt = require('..')
const { Sim } = require('./helpers/sim')

/** @type {Sim} */
let sim
/** @type {import('..').Client} */
let client
/** @type {string} */
let root

test.before(async () => {
  sim = await Sim.start()
  client = new bt.Client(sim.clientOptions())
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-dr-node-cancel-'))
})

test.after(async () => {
  await sim?.stop()
  if (root) await fs.rm(root, { recursive: true, force: true })
})

test.afterEach(() => sim.control('/appliances/0/clear_faults'))

/** @param {string} name */
const freshDir = (name) => fs.mkdtemp(path.join(root, `${name}-`))

/** @param {any} e */
const isCancelled = (e) => {
  assert.equal(e.code, 'BT_DR_CANCELLED', e.message)
  assert.equal(e.kind, 'cancelled')
  return true
}

test('aborting a slow backup download rejects with BT_DR_CANCELLED and leaves no file', async () => {
  const dir = await freshDir('backup')
  await sim.control('/appliances/0/fault', { endpoint: 'backup', fault: 'slow_body', value: 65536 })
  const controller = new AbortController()
  /** @type {import('..').ProgressEvent[]} */
  const events = []
  const started = Date.now()
  const pending = client.downloadBackup(dir, {
    signal: controller.signal,
    onProgress: (e) => {
      events.push(e)
      if (events.length === 1) controller.abort()
    },
  })
  await assert.rejects(pending, isCancelled)
  assert.ok(events.length >= 1, 'the download had started')
  assert.ok(events[0].done < (1 << 20), 'it was cancelled before the end')
  assert.ok(Date.now() - started < 10000, 'cancellation is prompt (a full download takes 16 s)')
  assert.deepEqual(await fs.readdir(dir), [], 'no partial, temporary or sidecar file')
})

test('aborting from a timer also works, and the signal listener is removed', async () => {
  const dir = await freshDir('timer')
  await sim.control('/appliances/0/fault', { endpoint: 'backup', fault: 'slow_body', value: 65536 })
  const signal = AbortSignal.timeout(700)
  await assert.rejects(client.downloadBackup(dir, { signal }), isCancelled)
  assert.deepEqual(await fs.readdir(dir), [])
})

test('an already-aborted signal cancels before anything is written', async () => {
  const dir = await freshDir('pre')
  const controller = new AbortController()
  controller.abort()
  await assert.rejects(client.downloadBackup(dir, { signal: controller.signal }), isCancelled)
  await assert.rejects(client.downloadArchive('state', new Date(), 1, dir, { signal: controller.signal }), isCancelled)
  assert.deepEqual(await fs.readdir(dir), [])
})

test('aborting a recording download', async () => {
  const dir = await freshDir('recording')
  const [session] = await client.listSessions({ type: 'start_time', unix: 0, seconds: 0 })
  await sim.control('/appliances/0/fault', { endpoint: 'reporting', fault: 'slow_body', value: 4096 })
  const controller = new AbortController()
  const pending = client.downloadRecording(session.lsid, dir, {
    signal: controller.signal,
    onProgress: () => controller.abort(),
  })
  await assert.rejects(pending, isCancelled)
  assert.deepEqual(await fs.readdir(dir), [])
})

test('a throwing progress callback cancels the download and becomes the rejection', async () => {
  const dir = await freshDir('throwing')
  await sim.control('/appliances/0/fault', { endpoint: 'backup', fault: 'slow_body', value: 65536 })
  const boom = new Error('progress handler failed')
  await assert.rejects(
    client.downloadBackup(dir, {
      onProgress: () => {
        throw boom
      },
    }),
    (e) => e === boom,
  )
  assert.deepEqual(await fs.readdir(dir), [])
})

test('a download without a signal still completes after a cancelled one', async () => {
  const dir = await freshDir('after')
  const b = await client.downloadBackup(dir)
  assert.equal(b.file.size, 1 << 20)
  assert.deepEqual((await fs.readdir(dir)).sort(), [b.file.fileName, path.basename(b.sidecarPath)].sort())
})

test('bad options are rejected synchronously', () => {
  assert.throws(() => client.downloadBackup('.', { signal: /** @type {any} */ ({}) }), TypeError)
  assert.throws(() => client.downloadBackup('.', { onProgress: /** @type {any} */ (1) }), TypeError)
})

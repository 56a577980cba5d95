'use strict'
// Issue 12 item 12: no secret (client secret, backup password, p12 passphrase) appears in any
// text of an error: message, properties, String(err), util.inspect(err), JSON, stack.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs/promises')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const https = require('node:https')
const bt = require('..')
const { Sim, ROOT } = require('./helpers/sim')

const BACKUP_PASSWORD = 'bk-pass-Zq8x-4471'
const P12_PASSPHRASE = 'p12-pass-Wd81-secret'
const WRONG_SECRET = 'wrong-secret-Kx93-value'
const P12 = path.join(ROOT, 'bt-dr-core', 'tests', 'fixtures', 'p12')

/** @type {Sim} */
let sim
/** @type {string} */
let dir

test.before(async () => {
  sim = await Sim.start()
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-dr-node-secrets-'))
})

test.after(async () => {
  await sim?.stop()
  if (dir) await fs.rm(dir, { recursive: true, force: true })
})

test.afterEach(async () => {
  await sim.control('/appliances/0/clear_faults')
})

/**
 * Every text an error shows.
 * @param {any} e
 */
function texts(e) {
  const props = Object.fromEntries(Object.getOwnPropertyNames(e).map((k) => [k, e[k]]))
  return [e.message, String(e), util.inspect(e), JSON.stringify(e), JSON.stringify(props), String(e.stack)]
}

/**
 * A rejection check: a BtDrError whose texts hold none of `secrets`.
 * @param {string[]} secrets
 */
const noSecret = (...secrets) => (/** @type {any} */ e) => {
  assert.ok(bt.isBtDrError(e), `expected a BtDrError, got ${util.inspect(e)}`)
  for (const t of texts(e)) {
    for (const s of secrets) assert.ok(!t.includes(s), `secret ${s} leaked in ${t}`)
  }
  return true
}

const quick = { retry: { maxAttempts: 1, initialBackoffMs: 10, maxTotalMs: 1000 } }

test('a wrong client secret shows in no error', async () => {
  const c = new bt.Client(sim.clientOptions('primary', { clientSecret: WRONG_SECRET }))
  await assert.rejects(c.checkHealth(), noSecret(WRONG_SECRET, sim.info.client_secret))
  const d = await fs.mkdtemp(path.join(dir, 'auth-'))
  await assert.rejects(
    c.downloadBackup(d, { password: BACKUP_PASSWORD }),
    noSecret(WRONG_SECRET, sim.info.client_secret, BACKUP_PASSWORD),
  )
  assert.ok(!util.inspect(c).includes(WRONG_SECRET))
})

for (const fault of ['html_page', 'wrong_content_type', 'reset_connection']) {
  test(`the backup password shows in no error (${fault})`, async () => {
    await sim.control('/appliances/0/fault', { endpoint: 'backup', fault, times: null })
    const c = new bt.Client(sim.clientOptions('primary', quick))
    const d = await fs.mkdtemp(path.join(dir, `${fault}-`))
    await assert.rejects(c.downloadBackup(d, { password: BACKUP_PASSWORD }), noSecret(BACKUP_PASSWORD, sim.info.client_secret))
  })
}

/**
 * A rejection check: no secret, no `Bearer `/`Basic ` credential and no Basic-auth pair of
 * the simulator's client in any text.
 * @param {string[]} secrets
 */
const noCredential = (...secrets) => (/** @type {any} */ e) => {
  const basic = Buffer.from(`${sim.info.client_id}:${sim.info.client_secret}`).toString('base64')
  noSecret(sim.info.client_secret, basic, ...secrets)(e)
  for (const t of texts(e)) {
    for (const m of ['Bearer ', 'bearer ', 'Basic ', 'basic ']) {
      assert.ok(!t.includes(m), `credential ${JSON.stringify(m)} leaked in ${t}`)
    }
  }
  return true
}

// `echo_headers` answers with the request line, every header (the bearer token) and the
// request body (the JSON `{"password": ...}` of POST /api/backup): only the core's redaction
// keeps them out of the error ('the simulator really echoes' shows they are on the wire).
for (const status of [502, 200]) {
  test(`a proxy echoing the backup request leaks nothing (HTTP ${status})`, async () => {
    await sim.control('/appliances/0/fault', { endpoint: 'backup', fault: 'echo_headers', value: status, times: null })
    const c = new bt.Client(sim.clientOptions('primary', quick))
    const d = await fs.mkdtemp(path.join(dir, `echo-${status}-`))
    await assert.rejects(c.downloadBackup(d, { password: BACKUP_PASSWORD }), noCredential(BACKUP_PASSWORD))
    assert.deepEqual((await fs.readdir(d)).filter((n) => n.endsWith('.nsb')), [])
  })
}

test('a proxy echoing the token request leaks nothing', async () => {
  await sim.control('/appliances/0/fault', { endpoint: 'token', fault: 'echo_headers', value: 502, times: null })
  const c = new bt.Client(sim.clientOptions('primary', quick))
  await assert.rejects(c.checkHealth(), noCredential())
})

test('the simulator really echoes the backup password and the bearer token', async () => {
  await sim.control('/appliances/0/fault', { endpoint: 'backup', fault: 'echo_headers', value: 502, times: 1 })
  const url = new URL('/api/backup', sim.info.primary_url)
  const body = JSON.stringify({ password: BACKUP_PASSWORD })
  const answer = await new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        rejectUnauthorized: false,
        headers: { authorization: 'Bearer tok-Abc123', 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode, text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
  const a = /** @type {{ status: number, text: string }} */ (answer)
  assert.equal(a.status, 502)
  assert.ok(a.text.includes(BACKUP_PASSWORD) && a.text.includes('Bearer tok-Abc123'), a.text)
})

test('the p12 passphrase shows in no error', async () => {
  for (const name of ['default_chain.p12', 'not_a_p12.p12', 'truncated.p12', 'missing.p12']) {
    await assert.rejects(bt.checkCertificateBundle(path.join(P12, name), P12_PASSPHRASE), noSecret(P12_PASSPHRASE))
  }
  const bytes = await fs.readFile(path.join(P12, 'default_chain.p12'))
  await assert.rejects(bt.checkCertificateBundle(bytes, P12_PASSPHRASE), noSecret(P12_PASSPHRASE))
})

'use strict'
// The README's Node quickstart is examples/quickstart.js, and it runs against the simulator.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const fs = require('node:fs/promises')
const os = require('node:os')
const path = require('node:path')
const { promisify } = require('node:util')
const { Sim } = require('./helpers/sim')

const HERE = path.resolve(__dirname, '..')

/** The first ```js block after the "## Quickstart" heading. */
async function readmeQuickstart() {
  const readme = await fs.readFile(path.join(HERE, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Quickstart'))
  const m = /```js\n([\s\S]*?)```/.exec(section)
  assert.ok(m, 'README.md has a ```js quickstart block')
  return m[1]
}

test('the README quickstart is examples/quickstart.js', async () => {
  const example = await fs.readFile(path.join(HERE, 'examples', 'quickstart.js'), 'utf8')
  assert.equal(await readmeQuickstart(), example)
})

test('the README quickstart runs against the simulator', async () => {
  const sim = await Sim.start(['--backup-size', '131072'])
  const store = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-dr-node-quickstart-'))
  try {
    // Run the README's text itself (written next to the package so `require('bt-dr')` resolves).
    const script = path.join(HERE, 'examples', '.readme-quickstart.js')
    await fs.writeFile(script, await readmeQuickstart())
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], {
        env: {
          ...process.env,
          BT_DR_URL: sim.info.primary_url,
          BT_DR_CLIENT_ID: sim.info.client_id,
          BT_DR_CLIENT_SECRET: sim.info.client_secret,
          BT_DR_CA_FILE: sim.info.ca_pem_path,
          BT_DR_STORE: store,
        },
        timeout: 60000,
      })
      assert.equal(stderr, '')
      assert.match(stdout, /bt-a\.example\.com runs 24\.1\.2 \(\d+-[0-9a-f]+\) as primary/)
      assert.match(stdout, /NSB 131072 of 131072 bytes/)
      assert.match(stdout, /backup set \S+: \d+ files, NSB bomgar-24\.1\.2-support-.*\.nsb/)
      assert.match(stdout, /reporting archive: [1-9]\d* new files/)
      assert.match(stdout, /audit: \d+ critical, \d+ errors/)
      assert.match(stdout, /error vault_key_missing: /, 'the audit reports what the quickstart did not save')
    } finally {
      await fs.rm(script, { force: true })
    }
    // a wrong secret ends in the error code, not a stack trace
    const failed = await promisify(execFile)(process.execPath, [path.join(HERE, 'examples', 'quickstart.js')], {
      env: {
        ...process.env,
        BT_DR_URL: sim.info.primary_url,
        BT_DR_CLIENT_ID: sim.info.client_id,
        BT_DR_CLIENT_SECRET: 'wrong',
        BT_DR_CA_FILE: sim.info.ca_pem_path,
        BT_DR_STORE: store,
      },
    }).then(
      () => assert.fail('expected a non-zero exit'),
      (/** @type {any} */ e) => e,
    )
    assert.equal(failed.code, 1)
    assert.match(failed.stderr, /^BT_DR_AUTH: /)
    // a partial set (the Reporting API answers 404: recordings fail, the NSB is kept) exits 3
    // and names the failed part
    await sim.control('/appliances/0/fault', { endpoint: 'reporting', fault: 'server_error', value: 404, times: null })
    const partial = await promisify(execFile)(process.execPath, [path.join(HERE, 'examples', 'quickstart.js')], {
      env: {
        ...process.env,
        BT_DR_URL: sim.info.primary_url,
        BT_DR_CLIENT_ID: sim.info.client_id,
        BT_DR_CLIENT_SECRET: sim.info.client_secret,
        BT_DR_CA_FILE: sim.info.ca_pem_path,
        BT_DR_STORE: store,
      },
    }).then(
      () => assert.fail('expected exit status 3'),
      (/** @type {any} */ e) => e,
    )
    assert.equal(partial.code, 3, partial.stderr)
    assert.match(partial.stdout, /PARTIAL: part recordings failed \(BT_DR_NOT_FOUND\): /)
  } finally {
    await sim.stop()
    await fs.rm(store, { recursive: true, force: true })
  }
})

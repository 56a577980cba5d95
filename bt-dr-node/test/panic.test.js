'use strict'
// Issue 12, item 6: no Rust panic aborts the Node process. Inputs that used to panic
// (`checkCertificatePair` with an out-of-range `leaf` or a short `sha256`) are typed
// BT_DR_INVALID_INPUT errors, and a real panic in any export (sync, async, blocking) arrives as
// a BtDrError with code BT_DR_INTERNAL. The panic itself is made by a hidden test hook of the
// native binding (`__panicForTest`, armed only with BT_DR_TEST_PANIC; not part of the API).

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const bt = require('..')
const { ROOT } = require('./helpers/sim')

/** @type {any} */
const native = require('../native/binding.js')

const P12 = path.join(ROOT, 'bt-dr-core', 'tests', 'fixtures', 'p12')
const p12 = (/** @type {string} */ name) => path.join(P12, name)

/**
 * @param {string} code
 * @param {string} [field]
 */
const hasCode = (code, field) => (/** @type {any} */ e) => {
  assert.ok(bt.isBtDrError(e), `expected a BtDrError, got ${e}`)
  assert.equal(e.code, code, e.message)
  assert.equal(e.name, 'BtDrError')
  if (field !== undefined) assert.equal(e.field, field, e.message)
  return true
}

test('checkCertificatePair: an out-of-range leaf or chain index is BT_DR_INVALID_INPUT', async () => {
  const a = await bt.checkCertificateBundle(p12('default_chain.p12'), 'fixture-pass')
  const b = await bt.checkCertificateBundle(p12('wrong_host.p12'), 'fixture-pass')
  const copy = () => JSON.parse(JSON.stringify(a))
  assert.throws(() => bt.checkCertificatePair({ ...copy(), leaf: 99 }, b), hasCode('BT_DR_INVALID_INPUT', 'primary.leaf'))
  assert.throws(() => bt.checkCertificatePair(b, { ...copy(), leaf: a.certificates.length }), hasCode('BT_DR_INVALID_INPUT', 'backup.leaf'))
  assert.throws(() => bt.checkCertificatePair({ ...copy(), chain: [0, 42] }, b), hasCode('BT_DR_INVALID_INPUT', 'primary.chain'))
  // still alive, still right
  assert.equal(bt.checkCertificatePair(a, b).identical, false)
})

test('checkCertificatePair: a short or non-hex sha256 is BT_DR_INVALID_INPUT', async () => {
  const a = await bt.checkCertificateBundle(p12('default_chain.p12'), 'fixture-pass')
  const b = await bt.checkCertificateBundle(p12('wrong_host.p12'), 'fixture-pass')
  for (const sha256 of ['ab', '', 'é'.repeat(12), 'z'.repeat(64)]) {
    const bad = JSON.parse(JSON.stringify(a))
    bad.certificates[/** @type {number} */ (a.leaf)].sha256 = sha256
    assert.throws(() => bt.checkCertificatePair(bad, b), hasCode('BT_DR_INVALID_INPUT'), sha256)
    assert.throws(() => bt.checkCertificatePair(b, bad), hasCode('BT_DR_INVALID_INPUT'), sha256)
  }
  assert.equal(bt.checkCertificatePair(a, a).identical, true)
})

test('a process that feeds checkCertificatePair hostile reports survives', () => {
  const script = `
    const bt = require(${JSON.stringify(path.join(__dirname, '..'))})
    const a = { certificates: [], leaf: 5, chain: [7], hasPrivateKey: false, keyMatchesLeaf: null, findings: [] }
    let codes = []
    try { bt.checkCertificatePair(a, a) } catch (e) { codes.push(e.code) }
    process.stdout.write(codes.join(',') + ' alive')
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.signal, null)
  assert.equal(r.stdout, 'BT_DR_INVALID_INPUT alive')
})

test('the panic hook is refused unless armed', async () => {
  const saved = process.env.BT_DR_TEST_PANIC
  delete process.env.BT_DR_TEST_PANIC
  try {
    assert.throws(() => native.__panicForTest('sync'), hasCode('BT_DR_INVALID_INPUT'))
  } finally {
    if (saved !== undefined) process.env.BT_DR_TEST_PANIC = saved
  }
  assert.ok(!('__panicForTest' in bt), 'the hook is not exported by the package')
})

test('a panic in a sync export throws BT_DR_INTERNAL', () => {
  process.env.BT_DR_TEST_PANIC = '1'
  try {
    assert.throws(() => native.__panicForTest('sync'), (/** @type {any} */ e) => {
      hasCode('BT_DR_INTERNAL')(e)
      assert.equal(e.kind, 'internal')
      assert.match(e.message, /test panic \(sync\)/)
      return true
    })
  } finally {
    delete process.env.BT_DR_TEST_PANIC
  }
})

test('a panic in an async or blocking export rejects with BT_DR_INTERNAL', async () => {
  process.env.BT_DR_TEST_PANIC = '1'
  try {
    for (const place of ['async', 'blocking']) {
      await assert.rejects(native.__panicForTest(place), (/** @type {any} */ e) => {
        hasCode('BT_DR_INTERNAL')(e)
        assert.match(e.message, new RegExp(`test panic \\(${place}\\)`))
        return true
      })
    }
  } finally {
    delete process.env.BT_DR_TEST_PANIC
  }
  // the runtime keeps working after a panicking future
  assert.equal((await bt.checkCertificateBundle(p12('default_chain.p12'), 'fixture-pass')).hasPrivateKey, true)
})

test('a process whose exports panic survives', () => {
  const script = `
    const native = require(${JSON.stringify(path.join(__dirname, '..', 'native', 'binding.js'))})
    const codes = []
    try { native.__panicForTest('sync') } catch (e) { codes.push(e.code) }
    native.__panicForTest('async').catch((e) => codes.push(e.code))
      .then(() => native.__panicForTest('blocking')).catch((e) => codes.push(e.code))
      .then(() => process.stdout.write(codes.join(',') + ' alive'))
  `
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, BT_DR_TEST_PANIC: '1' },
  })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.signal, null)
  assert.equal(r.stdout, 'BT_DR_INTERNAL,BT_DR_INTERNAL,BT_DR_INTERNAL alive')
})

'use strict'
// Parity with bt-dr-core: every public operation has a Node counterpart (a module function,
// a `Client` method, or a namespace like `applianceRecord`), and every error kind a code.

const test = require('node:test')
const assert = require('node:assert/strict')
const bt = require('..')

test('every core operation has a Node counterpart', () => {
  const ops = bt.operations()
  assert.ok(ops.length >= 20, 'the core lists its operations')
  /** @type {Record<string, unknown>} */
  const exported = bt
  const clientMethods = Object.getOwnPropertyNames(bt.Client.prototype)
  const missing = ops
    .filter(
      (op) =>
        !(op.nodeName in exported && ['function', 'object'].includes(typeof exported[op.nodeName])) &&
        !clientMethods.includes(op.nodeName),
    )
    .map((op) => `${op.name} (${op.nodeName})`)
  assert.deepEqual(missing, [], `operations without a Node counterpart: ${missing.join(', ')}`)
})

test('operation names map snake_case to camelCase', () => {
  const byName = Object.fromEntries(bt.operations().map((o) => [o.name, o.nodeName]))
  assert.equal(byName.check_restore, 'checkRestore')
  assert.equal(byName.download_backup, 'downloadBackup')
  assert.equal(byName.get_api_info, 'getApiInfo')
})

test('every core error kind has its stable code', () => {
  const kinds = bt.errorKinds()
  assert.equal(kinds.length, 18)
  assert.equal(bt.ErrorCode.INTERNAL, 'BT_DR_INTERNAL')
  for (const { kind, code } of kinds) {
    assert.equal(code, `BT_DR_${kind.toUpperCase()}`)
    assert.equal(/** @type {Record<string, string>} */ (bt.ErrorCode)[kind.toUpperCase()], code)
  }
  assert.equal(bt.ErrorCode.AUTH, 'BT_DR_AUTH')
  assert.equal(bt.ErrorCode.RATE_LIMITED, 'BT_DR_RATE_LIMITED')
  assert.ok(Object.isFrozen(bt.ErrorCode))
})

test('core version is reported', () => {
  assert.match(bt.coreVersion(), /^\d+\.\d+\.\d+/)
})
